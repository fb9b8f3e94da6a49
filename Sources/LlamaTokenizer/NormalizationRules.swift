import Foundation

/// The named normalization rules of SentencePiece (`--normalization_rule_name`).
///
/// The precompiled character maps are data, not code: each file in
/// `Resources/Charsmaps` is the `normalizer_spec.precompiled_charsmap` of a model that
/// `sentencepiece` 0.2.3 trained with that rule name (SentencePiece builds them from its
/// `data/*.tsv` rules with `normalizer::Builder`). `identity` has no map.
public enum NormalizationRules {
    /// Rule names that can be used for training.
    public static let names = ["nmt_nfkc", "nfkc", "nmt_nfkc_cf", "nfkc_cf", "identity"]

    /// The precompiled map for `name` (empty for `identity`).
    ///
    /// - Throws: `TokenizerError.invalidTrainingOption` for an unknown name or a missing resource.
    public static func precompiledCharsMap(named name: String) throws -> [UInt8] {
        if name == "identity" { return [] }
        guard names.contains(name) else {
            throw TokenizerError.invalidTrainingOption(
                name: "normalization_rule_name", reason: "unknown rule \"\(name)\" (known: \(names.joined(separator: ", ")))")
        }
        guard let url = Bundle.module.url(forResource: name, withExtension: "charsmap", subdirectory: "Charsmaps"),
              let data = try? Data(contentsOf: url)
        else {
            throw TokenizerError.invalidTrainingOption(
                name: "normalization_rule_name", reason: "resource Charsmaps/\(name).charsmap is missing from the LlamaTokenizer bundle")
        }
        return Array(data)
    }
}

/// Unicode scripts as SentencePiece's trainer sees them (src/unicode_script.cc), used to
/// keep pieces within one script (`split_by_unicode_script`).
enum UnicodeScript {
    /// Script number of each range; 0 is Common (the default for unlisted code points).
    private static let table: (starts: [UInt32], ends: [UInt32], scripts: [UInt16], names: [String]) = load()

    /// The script number of Common.
    static let common: UInt16 = 0
    /// Script numbers SentencePiece treats specially.
    static let han = number(of: "Han")
    static let hiragana = number(of: "Hiragana")
    static let katakana = number(of: "Katakana")
    static let inherited = number(of: "Inherited")

    private static func number(of name: String) -> UInt16 {
        UInt16(table.names.firstIndex(of: name) ?? Int(UInt16.max))
    }

    /// Scripts of the first `directLimit` code points, looked up without a search.
    private static let directLimit: UInt32 = 0x3100
    static let direct: [UInt16] = (0..<directLimit).map { searchScript(of: $0) }

    /// The script of `codePoint`.
    @inline(__always)
    static func script(of codePoint: UInt32) -> UInt16 {
        codePoint < directLimit ? direct[Int(codePoint)] : searchScript(of: codePoint)
    }

    /// The script of `codePoint` by binary search over the ranges.
    private static func searchScript(of codePoint: UInt32) -> UInt16 {
        let starts = table.starts
        var low = 0, high = starts.count
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] <= codePoint { low = middle + 1 } else { high = middle }
        }
        let index = low - 1
        if index >= 0 && codePoint <= table.ends[index] { return table.scripts[index] }
        return common
    }

    /// Reads `Resources/unicode_scripts.txt` (lines `start end Script`, hexadecimal).
    private static func load() -> (starts: [UInt32], ends: [UInt32], scripts: [UInt16], names: [String]) {
        var names = ["Common"]
        var starts: [UInt32] = [], ends: [UInt32] = [], scripts: [UInt16] = []
        guard let url = Bundle.module.url(forResource: "unicode_scripts", withExtension: "txt"),
              let text = try? String(contentsOf: url, encoding: .utf8)
        else {
            preconditionFailure("resource unicode_scripts.txt is missing from the LlamaTokenizer bundle")
        }
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let start = UInt32(fields[0], radix: 16), let end = UInt32(fields[1], radix: 16) else { continue }
            let name = String(fields[2])
            let number: Int
            if let existing = names.firstIndex(of: name) { number = existing } else { names.append(name); number = names.count - 1 }
            starts.append(start)
            ends.append(end)
            scripts.append(UInt16(number))
        }
        return (starts, ends, scripts, names)
    }
}
