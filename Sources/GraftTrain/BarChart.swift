// BarChart: grouped bar charts for the experiment tables (one group per row, one bar per
// method).

import Foundation

extension SVGPlot {
    /// One series of a bar chart: a name for the legend and a value per group (nil: no bar).
    public struct BarSeries {
        public var name: String
        public var values: [Double?]

        public init(name: String, values: [Double?]) {
            self.name = name
            self.values = values
        }
    }

    /// A self-contained SVG bar chart: a group of bars per label, one bar per series, each
    /// with its value written above it; the axis runs from 0 to a tenth above the largest
    /// value.
    public static func barChart(title: String, yLabel: String, groups: [String], series: [BarSeries],
                                width: Double = 720, height: Double = 380) -> String {
        let colors = ["#2060c0", "#d0702a", "#3a9a48", "#a03aa0"]
        let margin = (left: 64.0, right: 16.0, top: 56.0, bottom: 64.0)
        let plotWidth = width - margin.left - margin.right, plotHeight = height - margin.top - margin.bottom
        let largest = series.flatMap { $0.values.compactMap { $0 } }.max() ?? 1
        let yMax = Swift.max(largest, 1e-9) * 1.1
        func py(_ y: Double) -> Double { margin.top + (1 - y / yMax) * plotHeight }
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>",
        ]
        for i in 0...5 {
            let y = yMax * Double(i) / 5
            svg.append("<line x1=\"\(margin.left)\" y1=\(quote(py(y))) x2=\"\(width - margin.right)\" y2=\(quote(py(y))) stroke=\"#e4e4e4\"/>")
            svg.append("<text x=\"\(margin.left - 6)\" y=\(quote(py(y) + 4)) text-anchor=\"end\">\(String(format: "%.0f", y))</text>")
        }
        let groupWidth = plotWidth / Double(Swift.max(groups.count, 1))
        let padding = groupWidth * 0.1
        let slot = (groupWidth - 2 * padding) / Double(Swift.max(series.count, 1))
        for (group, label) in groups.enumerated() {
            let left = margin.left + Double(group) * groupWidth
            for (index, line) in series.enumerated() {
                guard group < line.values.count, let value = line.values[group] else { continue }
                let x = left + padding + Double(index) * slot, barWidth = slot * 0.92
                svg.append("<rect x=\(quote(x)) y=\(quote(py(value))) width=\(quote(barWidth)) height=\(quote(plotHeight + margin.top - py(value))) fill=\"\(colors[index % colors.count])\"/>")
                svg.append("<text x=\(quote(x + barWidth / 2)) y=\(quote(py(value) - 4)) text-anchor=\"middle\" font-size=\"10\">\(String(format: "%.1f", value))</text>")
            }
            svg.append("<text x=\(quote(left + groupWidth / 2)) y=\(quote(height - margin.bottom + 18)) text-anchor=\"middle\">\(escape(label))</text>")
        }
        svg.append("<rect x=\(quote(margin.left)) y=\(quote(margin.top)) width=\(quote(plotWidth)) height=\(quote(plotHeight)) fill=\"none\" stroke=\"#444\"/>")
        for (index, line) in series.enumerated() {
            let x = margin.left + Double(index) * 120
            svg.append("<rect x=\(quote(x)) y=\"34\" width=\"12\" height=\"12\" fill=\"\(colors[index % colors.count])\"/>")
            svg.append("<text x=\(quote(x + 18)) y=\"44\">\(escape(line.name))</text>")
        }
        svg.append("<text x=\"16\" y=\(quote(margin.top + plotHeight / 2)) text-anchor=\"middle\" transform=\"rotate(-90 16 \(margin.top + plotHeight / 2))\">\(escape(yLabel))</text>")
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
