/// Counts per cleaning stage (documents or lines kept and removed by each rule), in the
/// order the stages were first counted, so that summaries read in pipeline order.
public struct StageCounts: Sendable, Equatable, CustomStringConvertible {
    /// Stage names in first-counted order.
    public private(set) var names: [String] = []
    /// Count per stage name.
    public private(set) var values: [String: Int] = [:]

    public init() {}

    /// Adds `amount` to the stage `name`.
    public mutating func add(_ name: String, _ amount: Int = 1) {
        if values[name] == nil { names.append(name) }
        values[name, default: 0] += amount
    }

    /// The count of `name` (0 when never counted).
    public subscript(name: String) -> Int { values[name] ?? 0 }

    /// Adds every count of `other`.
    public mutating func merge(_ other: StageCounts) {
        for name in other.names { add(name, other[name]) }
    }

    /// One `name: count` per line.
    public var description: String {
        names.map { "\($0): \(values[$0] ?? 0)" }.joined(separator: "\n")
    }

    /// The counts as a JSON object, in stage order.
    public func jsonObject() -> String {
        var text = "{"
        for (index, name) in names.enumerated() {
            if index > 0 { text += "," }
            JSONText.appendString(name, to: &text)
            text += ":\(values[name] ?? 0)"
        }
        return text + "}"
    }

    /// Reads what `jsonObject()` wrote (stage order kept).
    public static func parse(jsonObject text: String) -> StageCounts? {
        var counts = StageCounts()
        var rest = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        guard rest.first == "{", rest.last == "}" else { return nil }
        rest = rest.dropFirst().dropLast()
        if rest.isEmpty { return counts }
        // Stage names never contain quotes, commas or colons (they are written by this module).
        for entry in rest.split(separator: ",") {
            let parts = entry.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let value = Int(parts[1]) else { return nil }
            let name = parts[0].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            counts.add(name, value)
        }
        return counts
    }
}

import Foundation
