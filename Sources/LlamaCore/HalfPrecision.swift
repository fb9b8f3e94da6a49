/// Conversions between float32 and the 16-bit float formats checkpoints are stored in.
///
/// IEEE half (F16) goes through Swift's `Float16`, which the compiler lowers to the F16C
/// instructions on x86 and to FCVT on ARM. bfloat16 is the upper half of a float32;
/// rounding to it is round-to-nearest-even, as PyTorch's `tensor.to(torch.bfloat16)`.

/// `count` IEEE half values (as bit patterns) to float32.
@inline(__always)
public func convertHalfToFloat(_ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0..<count { destination[i] = Float(Float16(bitPattern: source[i])) }
}

/// `count` bfloat16 values (as bit patterns) to float32.
@inline(__always)
public func convertBFloat16ToFloat(_ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0..<count { destination[i] = Float(bitPattern: UInt32(source[i]) << 16) }
}

/// `count` float32 values to IEEE half bit patterns (round to nearest even).
public func convertFloatToHalf(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<UInt16>, _ count: Int) {
    for i in 0..<count { destination[i] = Float16(source[i]).bitPattern }
}

/// `count` float32 values to bfloat16 bit patterns (round to nearest even; NaN stays NaN).
public func convertFloatToBFloat16(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<UInt16>, _ count: Int) {
    for i in 0..<count {
        let value = source[i]
        let bits = value.bitPattern
        if value.isNaN {
            destination[i] = UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
        } else {
            let roundingBias = ((bits >> 16) & 1) &+ 0x7FFF
            destination[i] = UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
        }
    }
}
