/// The 32-bit Mersenne Twister `std::mt19937` (Matsumoto & Nishimura 1998), bit-exact with
/// the C++ standard library, so that sentence sampling picks the sentences SentencePiece picks.
struct MersenneTwister {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    /// Seeds like `std::mt19937(seed)`.
    init(seed: UInt32) {
        state[0] = seed
        for position in 1..<624 {
            let previous = state[position - 1]
            state[position] = 1_812_433_253 &* (previous ^ (previous >> 30)) &+ UInt32(position)
        }
    }

    /// The next 32-bit output.
    mutating func next() -> UInt32 {
        if index >= 624 { twist() }
        var value = state[index]
        index += 1
        value ^= value >> 11
        value ^= (value << 7) & 0x9D2C_5680
        value ^= (value << 15) & 0xEFC6_0000
        value ^= value >> 18
        return value
    }

    private mutating func twist() {
        for position in 0..<624 {
            let mixed = (state[position] & 0x8000_0000) | (state[(position + 1) % 624] & 0x7FFF_FFFF)
            var value = state[(position + 397) % 624] ^ (mixed >> 1)
            if mixed & 1 != 0 { value ^= 0x9908_B0DF }
            state[position] = value
        }
        index = 0
    }

    /// A uniform integer in `0...upperBound`, drawn as libstdc++'s
    /// `std::uniform_int_distribution<uint64_t>` draws from a 32-bit engine: Lemire's
    /// multiply-and-reject for ranges below 2^32, otherwise two draws combined with
    /// rejection (`upper * 2^32 + lower`).
    mutating func uniform(upTo upperBound: UInt64) -> UInt64 {
        if upperBound < UInt64(UInt32.max) {
            let range = UInt64(upperBound + 1)
            var product = UInt64(next()) &* range
            var low = UInt32(truncatingIfNeeded: product)
            if UInt64(low) < range {
                let range32 = UInt32(truncatingIfNeeded: range)
                let threshold = (0 &- range32) % range32
                while low < threshold {
                    product = UInt64(next()) &* range
                    low = UInt32(truncatingIfNeeded: product)
                }
            }
            return product >> 32
        }
        if upperBound == UInt64(UInt32.max) { return UInt64(next()) }
        // Ranges of 2^32 or more: libstdc++ composes higher and lower halves recursively.
        let engineRange = UInt64(UInt32.max) + 1
        while true {
            let high = uniform(upTo: upperBound / engineRange)
            let (combined, overflow) = high.multipliedReportingOverflow(by: engineRange)
            if overflow { continue }
            let (value, overflow2) = combined.addingReportingOverflow(UInt64(next()))
            if !overflow2 && value <= upperBound { return value }
        }
    }
}
