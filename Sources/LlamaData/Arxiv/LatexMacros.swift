/// A user-defined LaTeX macro: `\newcommand{\name}[2][default]{body}`, `\renewcommand`,
/// `\providecommand` (starred or not), or `\def\name#1#2{body}`.
public struct LatexMacro: Sendable, Equatable {
    /// The name without its backslash.
    public var name: String
    /// Number of arguments.
    public var argumentCount: Int
    /// The default of an optional first argument (`\newcommand` with two `[…]`).
    public var optionalDefault: String?
    /// The replacement text with `#1` … `#9` placeholders.
    public var body: String
}

/// Finding macro definitions and expanding their uses inline. Scanning works on unicode
/// scalars; braces must balance inside arguments, as TeX requires.
public enum LatexMacros {
    /// Removes every definition from `text`; returns the text and the macros in definition
    /// order (a later definition of a name replaces an earlier one, as TeX does).
    public static func extractDefinitions(_ text: String) -> (text: String, macros: [String: LatexMacro]) {
        let scalars = Array(text.unicodeScalars)
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(scalars.count)
        var macros: [String: LatexMacro] = [:]
        var index = 0
        while index < scalars.count {
            if scalars[index] == "\\" {
                let (command, afterCommand) = readCommandName(scalars, index)
                if ["newcommand", "renewcommand", "providecommand"].contains(command),
                   let (macro, end) = parseNewCommand(scalars, afterCommand) {
                    if command != "providecommand" || macros[macro.name] == nil { macros[macro.name] = macro }
                    index = end
                    continue
                }
                if ["def", "gdef", "edef", "xdef"].contains(command), let (macro, end) = parseDef(scalars, afterCommand) {
                    macros[macro.name] = macro
                    index = end
                    continue
                }
                if !command.isEmpty {
                    output.append(contentsOf: scalars[index..<afterCommand])
                    index = afterCommand
                    continue
                }
            }
            output.append(scalars[index])
            index += 1
        }
        return (makeString(output), macros)
    }

    /// Replaces uses of `macros` in `text`, repeating while a pass changed something (so
    /// macros defined through other macros expand fully), at most `maximumPasses` times (a
    /// recursive definition stops there).
    public static func expand(_ text: String, macros: [String: LatexMacro], maximumPasses: Int = 10) -> String {
        guard !macros.isEmpty else { return text }
        var current = text
        for _ in 0..<maximumPasses {
            let (next, changed) = expandOnce(current, macros: macros)
            current = next
            if !changed { break }
        }
        return current
    }

    private static func expandOnce(_ text: String, macros: [String: LatexMacro]) -> (String, Bool) {
        let scalars = Array(text.unicodeScalars)
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(scalars.count)
        var changed = false
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "\\" else {
                output.append(scalars[index])
                index += 1
                continue
            }
            let (name, afterName) = readCommandName(scalars, index)
            guard let macro = macros[name] else {
                output.append(contentsOf: scalars[index..<max(afterName, index + 1)])
                index = max(afterName, index + 1)
                continue
            }
            var arguments: [String] = []
            var position = afterName
            var complete = true
            for argumentIndex in 0..<macro.argumentCount {
                if argumentIndex == 0, let optionalDefault = macro.optionalDefault {
                    let afterSpaces = skipSpaces(scalars, position)
                    if afterSpaces < scalars.count, scalars[afterSpaces] == "[",
                       let close = matchingBracket(scalars, afterSpaces, open: "[", close: "]") {
                        arguments.append(makeString(scalars[(afterSpaces + 1)..<close]))
                        position = close + 1
                    } else {
                        arguments.append(optionalDefault)
                    }
                    continue
                }
                guard let (argument, end) = readArgument(scalars, position) else { complete = false; break }
                arguments.append(argument)
                position = end
            }
            guard complete else {
                output.append(contentsOf: scalars[index..<afterName])
                index = afterName
                continue
            }
            for scalar in substitute(macro.body, arguments).unicodeScalars { output.append(scalar) }
            // An empty group after an argument-less macro (`\model{}`) only ends its name.
            if macro.argumentCount == 0, position + 1 < scalars.count, scalars[position] == "{", scalars[position + 1] == "}" {
                position += 2
            }
            index = position
            changed = true
        }
        return (makeString(output), changed)
    }

    /// `#1` … `#9` replaced by the arguments; `##` becomes `#`.
    static func substitute(_ body: String, _ arguments: [String]) -> String {
        guard !arguments.isEmpty else { return body }
        var result = ""
        var scalars = body.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            guard scalar == "#" else { result.unicodeScalars.append(scalar); continue }
            guard let next = scalars.next() else { result += "#"; break }
            if let digit = Int(String(next)), digit >= 1, digit <= arguments.count {
                result += arguments[digit - 1]
            } else if next == "#" {
                result += "#"
            } else {
                result.unicodeScalars.append(scalar)
                result.unicodeScalars.append(next)
            }
        }
        return result
    }

    // MARK: - Parsing definitions

    /// `\newcommand*{\name}[n][default]{body}` or `\newcommand\name{body}` after the command.
    private static func parseNewCommand(_ scalars: [Unicode.Scalar], _ start: Int) -> (LatexMacro, Int)? {
        var position = start
        if position < scalars.count, scalars[position] == "*" { position += 1 }
        position = skipSpaces(scalars, position)
        var name: String
        if position < scalars.count, scalars[position] == "{" {
            guard let close = matchingBracket(scalars, position, open: "{", close: "}") else { return nil }
            name = makeString(scalars[(position + 1)..<close]).trimmingCharacters(in: .whitespaces)
            position = close + 1
        } else {
            let (command, end) = readCommandName(scalars, position)
            guard !command.isEmpty else { return nil }
            name = "\\" + command
            position = end
        }
        guard name.hasPrefix("\\"), name.count > 1 else { return nil }
        name.removeFirst()
        var argumentCount = 0
        var optionalDefault: String?
        position = skipSpaces(scalars, position)
        if position < scalars.count, scalars[position] == "[",
           let close = matchingBracket(scalars, position, open: "[", close: "]") {
            argumentCount = Int(makeString(scalars[(position + 1)..<close]).trimmingCharacters(in: .whitespaces)) ?? 0
            position = skipSpaces(scalars, close + 1)
            if position < scalars.count, scalars[position] == "[",
               let defaultClose = matchingBracket(scalars, position, open: "[", close: "]") {
                optionalDefault = makeString(scalars[(position + 1)..<defaultClose])
                position = skipSpaces(scalars, defaultClose + 1)
            }
        }
        guard let (body, end) = readArgument(scalars, position) else { return nil }
        return (LatexMacro(name: name, argumentCount: argumentCount, optionalDefault: optionalDefault, body: body), end)
    }

    /// `\def\name#1#2{body}` after `\def`.
    private static func parseDef(_ scalars: [Unicode.Scalar], _ start: Int) -> (LatexMacro, Int)? {
        let position = skipSpaces(scalars, start)
        guard position < scalars.count, scalars[position] == "\\" else { return nil }
        let (name, afterName) = readCommandName(scalars, position)
        guard !name.isEmpty else { return nil }
        var cursor = afterName
        var argumentCount = 0
        while cursor + 1 < scalars.count, scalars[cursor] == "#", let digit = Int(String(scalars[cursor + 1])) {
            argumentCount = max(argumentCount, digit)
            cursor += 2
        }
        guard cursor < scalars.count, scalars[cursor] == "{",
              let close = matchingBracket(scalars, cursor, open: "{", close: "}") else { return nil }
        let body = makeString(scalars[(cursor + 1)..<close])
        return (LatexMacro(name: name, argumentCount: argumentCount, optionalDefault: nil, body: body), close + 1)
    }

    // MARK: - Scanning

    /// A string from scalars, encoded to UTF-8 in one go (appending to a
    /// `String.UnicodeScalarView` range by range copies the whole string each time).
    static func makeString<Scalars: Collection>(_ scalars: Scalars) -> String where Scalars.Element == Unicode.Scalar {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.count)
        for scalar in scalars { UTF8.encode(scalar) { bytes.append($0) } }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The control sequence at `start` (a backslash): a run of letters, or one other
    /// character; returns the name and the index after it.
    static func readCommandName(_ scalars: [Unicode.Scalar], _ start: Int) -> (String, Int) {
        guard start < scalars.count, scalars[start] == "\\", start + 1 < scalars.count else { return ("", start + 1) }
        var end = start + 1
        while end < scalars.count, scalars[end].properties.isAlphabetic, scalars[end].isASCII { end += 1 }
        if end == start + 1 { return (String(scalars[start + 1]), start + 2) }
        return (makeString(scalars[(start + 1)..<end]), end)
    }

    /// A macro argument at `start`: a brace group (without its braces) or a single token.
    static func readArgument(_ scalars: [Unicode.Scalar], _ start: Int) -> (String, Int)? {
        let position = skipSpaces(scalars, start)
        guard position < scalars.count else { return nil }
        if scalars[position] == "{" {
            guard let close = matchingBracket(scalars, position, open: "{", close: "}") else { return nil }
            return (makeString(scalars[(position + 1)..<close]), close + 1)
        }
        if scalars[position] == "\\" {
            let (name, end) = readCommandName(scalars, position)
            return ("\\" + name, end)
        }
        return (String(scalars[position]), position + 1)
    }

    /// The index of the bracket closing the one at `start`, skipping escaped brackets.
    static func matchingBracket(_ scalars: [Unicode.Scalar], _ start: Int, open: Unicode.Scalar, close: Unicode.Scalar) -> Int? {
        var depth = 0
        var index = start
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\\" { index += 2; continue }
            if scalar == open { depth += 1 }
            if scalar == close {
                depth -= 1
                if depth == 0 { return index }
            }
            index += 1
        }
        return nil
    }

    static func skipSpaces(_ scalars: [Unicode.Scalar], _ start: Int) -> Int {
        var index = start
        while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" || scalars[index] == "\n" { index += 1 }
        return index
    }
}

import Foundation
