import Foundation
import LlamaCore

/// Training metrics as JSON Lines (`metrics.jsonl`, one object per line) and a loss-curve
/// SVG (`loss.svg`) redrawn from them.
public final class MetricsLog {
    public let jsonlPath: String
    public let svgPath: String
    /// (step, training loss) and (step, validation loss) seen so far.
    public private(set) var trainingLoss: [(step: Int, loss: Double)] = []
    public private(set) var validationLoss: [(step: Int, loss: Double)] = []
    private var handle: FileHandle?

    /// Opens the log in `directory`, keeping only records up to `keepThroughStep` (the step a
    /// resumed run continues from; records of a killed run's later steps are dropped).
    public init(directory: String, keepThroughStep: Int) throws {
        jsonlPath = directory + "/metrics.jsonl"
        svgPath = directory + "/loss.svg"
        var kept: [String] = []
        if let data = FileManager.default.contents(atPath: jsonlPath) {
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let step = object["step"] as? Int, step <= keepThroughStep else { continue }
                kept.append(String(line))
                record(object, step: step)
            }
        }
        try AtomicFile.write(path: jsonlPath, text: kept.map { $0 + "\n" }.joined())
        handle = FileHandle(forWritingAtPath: jsonlPath)
        handle?.seekToEndOfFile()
    }

    deinit { handle?.closeFile() }

    private func record(_ object: [String: Any], step: Int) {
        if let loss = object["loss"] as? Double { trainingLoss.append((step, loss)) }
        if let loss = object["validation_loss"] as? Double { validationLoss.append((step, loss)) }
    }

    /// Appends one record (keys sorted, numbers as JSON numbers).
    public func append(_ fields: [String: Double], step: Int) {
        var object: [String: Any] = ["step": step]
        for (key, value) in fields { object[key] = value.isFinite ? value : nil }
        record(object, step: step)
        let items = fields.keys.sorted().map { key -> String in
            let value = fields[key] ?? 0
            return "\"\(key)\":" + (value.isFinite ? "\(value)" : "null")
        }
        let line = "{\"step\":\(step)," + items.joined(separator: ",") + "}\n"
        handle?.write(Data(line.utf8))
    }

    /// Redraws `loss.svg`: training loss (blue line) and validation loss (orange dots) by step.
    public func writeSVG(title: String, reference: (label: String, value: Double)? = nil) throws {
        let width = 720.0, height = 420.0, left = 60.0, right = 20.0, top = 40.0, bottom = 50.0
        let all = trainingLoss.map(\.loss) + validationLoss.map(\.loss) + (reference.map { [$0.value] } ?? [])
        guard let lowest = all.min(), let highest = all.max() else { return }
        let maxStep = Double(max(1, (trainingLoss.map(\.step) + validationLoss.map(\.step)).max() ?? 1))
        let low = max(0, lowest - 0.05 * (highest - lowest)), high = highest + 0.05 * (highest - lowest) + 1e-9
        func x(_ step: Int) -> Double { left + Double(step) / maxStep * (width - left - right) }
        func y(_ loss: Double) -> Double { top + (high - loss) / (high - low) * (height - top - bottom) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(left)\" y=\"24\" font-size=\"14\">\(title.replacingOccurrences(of: "<", with: "&lt;"))</text>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"black\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"black\"/>\n"
        for k in 0...4 {
            let value = low + (high - low) * Double(k) / 4
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n", left - 6, y(value) + 4, value)
            let step = Int(maxStep * Double(k) / 4)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n", x(step), height - bottom + 18, step)
        }
        svg += "<text x=\"\(width / 2)\" y=\"\(height - 8)\" text-anchor=\"middle\">step</text>\n"
        if let reference {
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"gray\" stroke-dasharray=\"4 3\"/>\n",
                          left, y(reference.value), width - right, y(reference.value))
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"gray\">%@ %.3f</text>\n",
                          width - right, y(reference.value) - 4, reference.label, reference.value)
        }
        if !trainingLoss.isEmpty {
            let points = trainingLoss.map { String(format: "%.1f,%.1f", x($0.step), y($0.loss)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"\(points)\"/>\n"
        }
        for point in validationLoss {
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#ff7f0e\"/>\n", x(point.step), y(point.loss))
        }
        svg += "<text x=\"\(width - right - 200)\" y=\"\(top + 4)\" fill=\"#1f77b4\">training loss</text>\n"
        svg += "<text x=\"\(width - right - 100)\" y=\"\(top + 4)\" fill=\"#ff7f0e\">validation loss</text>\n"
        svg += "</svg>\n"
        try AtomicFile.write(path: svgPath, text: svg)
    }
}
