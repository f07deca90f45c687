// Plot: SVG line charts of a metrics log (loss, kNN accuracy, z-std, any logged metric).

import Foundation

/// Draws one series as a self-contained SVG line chart with axes, ticks and a title.
public enum SVGPlot {
    public static func lineChart(title: String, xLabel: String, yLabel: String, points: [(Double, Double)],
                                 width: Double = 640, height: Double = 360) -> String {
        let margin = (left: 64.0, right: 16.0, top: 36.0, bottom: 48.0)
        let plotWidth = width - margin.left - margin.right, plotHeight = height - margin.top - margin.bottom
        let xs = points.map(\.0), ys = points.map(\.1)
        let (xMin, xMax) = (xs.min() ?? 0, Swift.max(xs.max() ?? 1, (xs.min() ?? 0) + 1e-9))
        var (yMin, yMax) = (ys.min() ?? 0, ys.max() ?? 1)
        if yMax - yMin < 1e-9 { yMin -= 0.5; yMax += 0.5 }
        let padding = (yMax - yMin) * 0.05
        yMin -= padding; yMax += padding
        func px(_ x: Double) -> Double { margin.left + (x - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { margin.top + (1 - (y - yMin) / (yMax - yMin)) * plotHeight }
        func format(_ v: Double) -> String {
            Swift.abs(v) >= 1000 ? String(format: "%.0f", v) : Swift.abs(v) >= 1 ? String(format: "%.2f", v) : String(format: "%.3f", v)
        }
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>",
        ]
        for i in 0...5 {
            let y = yMin + (yMax - yMin) * Double(i) / 5, x = xMin + (xMax - xMin) * Double(i) / 5
            svg.append("<line x1=\"\(margin.left)\" y1=\(quote(py(y))) x2=\"\(width - margin.right)\" y2=\(quote(py(y))) stroke=\"#e4e4e4\"/>")
            svg.append("<text x=\"\(margin.left - 6)\" y=\(quote(py(y) + 4)) text-anchor=\"end\">\(format(y))</text>")
            // The x axis counts steps: whole numbers once they are that large.
            let xLabel = Swift.abs(x) >= 10 ? String(format: "%.0f", x) : format(x)
            svg.append("<text x=\(quote(px(x))) y=\"\(height - margin.bottom + 18)\" text-anchor=\"middle\">\(xLabel)</text>")
        }
        svg.append("<rect x=\"\(margin.left)\" y=\"\(margin.top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#444\"/>")
        if !points.isEmpty {
            let path = points.map { "\(String(format: "%.1f", px($0.0))),\(String(format: "%.1f", py($0.1)))" }.joined(separator: " ")
            svg.append("<polyline fill=\"none\" stroke=\"#2060c0\" stroke-width=\"1.8\" points=\"\(path)\"/>")
            if points.count < 40 {
                for (x, y) in points { svg.append("<circle cx=\(quote(px(x))) cy=\(quote(py(y))) r=\"3\" fill=\"#2060c0\"/>") }
            }
        }
        svg.append("<text x=\"\(margin.left + plotWidth / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\">\(escape(xLabel))</text>")
        svg.append("<text x=\"16\" y=\"\(margin.top + plotHeight / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(margin.top + plotHeight / 2))\">\(escape(yLabel))</text>")
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// The loss, kNN accuracy and z-std charts of a metrics log, by file name.
    public static func charts(metrics: [[String: Any]]) -> [String: String] {
        charts(metrics: metrics, keys: ["loss", "knn_accuracy", "z_std"])
    }

    /// One chart for each metric in `keys` that the log records, by file name: `loss.svg`,
    /// `knn.svg` (kNN accuracy, in %), `z_std.svg`, and `<key>.svg` for any other metric.
    public static func charts(metrics: [[String: Any]], keys: [String]) -> [String: String] {
        func series(_ key: String) -> [(Double, Double)] {
            metrics.compactMap { record in
                guard let step = record["step"] as? Double ?? (record["step"] as? Int).map(Double.init),
                      let value = record[key] as? Double else { return nil }
                return (step, value)
            }
        }
        var charts: [String: String] = [:]
        for key in keys {
            let points = series(key)
            guard !points.isEmpty else { continue }
            switch key {
            case "loss":
                charts["loss.svg"] = lineChart(title: "Training loss", xLabel: "optimizer step", yLabel: "loss", points: points)
            case "knn_accuracy":
                charts["knn.svg"] = lineChart(title: "kNN accuracy (k = 200)", xLabel: "optimizer step", yLabel: "accuracy (%)",
                                              points: points.map { ($0.0, $0.1 * 100) })
            case "z_std":
                charts["z_std.svg"] = lineChart(title: "Std of normalised projections (collapse monitor)", xLabel: "optimizer step",
                                                yLabel: "z-std", points: points)
            default:
                charts["\(key).svg"] = lineChart(title: key.replacingOccurrences(of: "_", with: " "), xLabel: "optimizer step", yLabel: key,
                                                  points: points)
            }
        }
        return charts
    }

    static func quote(_ value: Double) -> String { "\"\(String(format: "%.1f", value))\"" }
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
