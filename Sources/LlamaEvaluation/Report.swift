import Foundation

/// Paper-style tables, JSON, and the performance-during-training figure.
public enum Report {
    /// One row per task and number of shots, one column per metric (values in percent,
    /// one decimal like the paper's tables), then a per-group table for grouped tasks.
    public static func markdown(_ results: [TaskResult], title: String = "Evaluation") -> String {
        let metricNames = Array(Set(results.flatMap { $0.metrics.keys })).sorted()
        var lines = ["## \(title)", "", "| task | shots | items | " + metricNames.joined(separator: " | ") + " |",
                     "|---|---:|---:|" + String(repeating: "---:|", count: metricNames.count)]
        for result in results {
            let cells = metricNames.map { name -> String in
                guard let value = result.metrics[name] else { return "" }
                let text = String(format: "%.1f", value)
                return name == result.primaryMetric ? "**\(text)**" : text
            }
            lines.append("| \(result.task) | \(result.shots) | \(result.itemCount) | " + cells.joined(separator: " | ") + " |")
        }
        lines.append("")
        lines.append("Bold: the task's headline metric (§3 of the LLaMA paper).")
        for result in results where result.groups.count > 1 {
            lines += ["", "### \(result.task), \(result.shots)-shot, by group", "", "| group | \(result.primaryMetric) |", "|---|---:|"]
            for group in result.groups.keys.sorted() {
                lines.append("| \(group) | \(String(format: "%.1f", result.groups[group]?[result.primaryMetric] ?? 0)) |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The results as pretty-printed JSON with sorted keys.
    public static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A series of one task's headline metric over training.
    public struct Series: Codable, Sendable {
        public var name: String
        /// (training tokens, value in percent), sorted by tokens.
        public var points: [Point]
        public init(name: String, points: [Point]) {
            self.name = name
            self.points = points.sorted { $0.tokens < $1.tokens }
        }
    }

    public struct Point: Codable, Sendable {
        public var tokens: Double
        public var value: Double
        public init(tokens: Double, value: Double) { self.tokens = tokens; self.value = value }
    }

    /// Small multiples of performance against training tokens, one panel per task, as
    /// the paper's Figure 2: x in billions of tokens when large, y in percent.
    public static func svg(_ series: [Series], columns: Int = 3) -> String {
        let panelWidth = 260.0, panelHeight = 200.0, margin = 45.0
        let rows = (series.count + columns - 1) / max(columns, 1)
        let width = Double(min(columns, max(series.count, 1))) * (panelWidth + margin) + margin
        let height = Double(max(rows, 1)) * (panelHeight + margin + 20) + margin
        var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">",
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"]
        for (index, item) in series.enumerated() {
            let left = margin + Double(index % columns) * (panelWidth + margin)
            let top = margin + Double(index / columns) * (panelHeight + margin + 20)
            let maxTokens = max(item.points.map(\.tokens).max() ?? 1, 1)
            let values = item.points.map(\.value)
            let low = max(0, ((values.min() ?? 0) - 5).rounded(.down)), high = min(100, ((values.max() ?? 100) + 5).rounded(.up))
            let span = max(high - low, 1)
            let scale = maxTokens >= 1e9 ? (1e9, "B") : maxTokens >= 1e6 ? (1e6, "M") : (1, "")
            func x(_ tokens: Double) -> Double { left + tokens / maxTokens * panelWidth }
            func y(_ value: Double) -> Double { top + panelHeight - (value - low) / span * panelHeight }
            out.append("<text x=\"\(left + panelWidth / 2)\" y=\"\(top - 8)\" text-anchor=\"middle\" font-weight=\"bold\">\(escape(item.name))</text>")
            out.append("<rect x=\"\(left)\" y=\"\(top)\" width=\"\(panelWidth)\" height=\"\(panelHeight)\" fill=\"none\" stroke=\"#888\"/>")
            for tick in 0...4 {
                let value = low + span * Double(tick) / 4, tokens = maxTokens * Double(tick) / 4
                out.append("<text x=\"\(left - 4)\" y=\"\(y(value) + 4)\" text-anchor=\"end\">\(String(format: "%.0f", value))</text>")
                out.append("<text x=\"\(x(tokens))\" y=\"\(top + panelHeight + 14)\" text-anchor=\"middle\">\(String(format: "%.3g", tokens / scale.0))\(scale.1)</text>")
            }
            out.append("<text x=\"\(left + panelWidth / 2)\" y=\"\(top + panelHeight + 30)\" text-anchor=\"middle\">training tokens</text>")
            let path = item.points.map { String(format: "%.1f,%.1f", x($0.tokens), y($0.value)) }.joined(separator: " ")
            out.append("<polyline points=\"\(path)\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>")
            for point in item.points {
                out.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f77b4\"/>", x(point.tokens), y(point.value)))
            }
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
