extension StringProtocol {
    /// The lines of the text: cut at every "\n" (as `wc -l`, KenLM and Python's file reading
    /// do), with the "\r" of a CRLF ending removed. Swift's `split(separator: "\n")` does not
    /// do this: "\r\n" is a single Character there, so a CRLF file would be one line.
    /// A final empty line (text ending in a newline) is not returned.
    public func lines(omittingEmpty: Bool = false) -> [Substring] {
        let text = Substring(self)
        var result: [Substring] = []
        var start = text.unicodeScalars.startIndex
        let scalars = text.unicodeScalars
        var index = start
        func add(_ end: Substring.UnicodeScalarView.Index) {
            var last = end
            if last > start, scalars[scalars.index(before: last)] == "\r" { last = scalars.index(before: last) }
            let line = Substring(scalars[start..<last])
            if !(omittingEmpty && line.isEmpty) { result.append(line) }
        }
        while index < scalars.endIndex {
            if scalars[index] == "\n" {
                add(index)
                start = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        if start < scalars.endIndex { add(scalars.endIndex) }
        return result
    }
}
