import Prometheus
import TollgateIPC

/// Renders a stats snapshot in the Prometheus text format (version 0.0.4), followed by whatever
/// swift-metrics recorded in the Prometheus registry (histograms, timers).
enum PrometheusText {
    static func render(_ snapshot: Stats.Snapshot, registry: PrometheusCollectorRegistry) -> String {
        let labels = "service=\"\(escape(snapshot.service))\",instance=\"\(escape(snapshot.instance))\""
        var out = ""
        out += "# TYPE tollgate_uptime_seconds gauge\ntollgate_uptime_seconds{\(labels)} \(number(snapshot.uptimeS))\n"
        for (name, value) in snapshot.counters.sorted(by: { $0.key < $1.key }) {
            let metric = "tollgate_" + sanitize(name)
            out += "# TYPE \(metric) counter\n\(metric){\(labels)} \(number(value))\n"
        }
        for (name, value) in snapshot.gauges.sorted(by: { $0.key < $1.key }) {
            let metric = "tollgate_" + sanitize(name)
            out += "# TYPE \(metric) gauge\n\(metric){\(labels)} \(number(value))\n"
        }
        if !snapshot.info.isEmpty {
            let infoLabels = snapshot.info.sorted(by: { $0.key < $1.key })
                .map { "\(sanitize($0.key))=\"\(escape($0.value))\"" }.joined(separator: ",")
            out += "# TYPE tollgate_info gauge\ntollgate_info{\(labels),\(infoLabels)} 1\n"
        }
        out += registry.emitToString()
        return out
    }

    /// Metric and label names: `[a-zA-Z_][a-zA-Z0-9_]*`.
    static func sanitize(_ name: String) -> String {
        var s = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
        if let first = s.first, first.isNumber { s = "_" + s }
        return s
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}

import Foundation
