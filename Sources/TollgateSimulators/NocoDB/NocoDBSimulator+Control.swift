#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import TollgateHTTPServer

/// The HTTP control API under `/_sim/` (not rate limited, not counted):
///
/// | request | effect |
/// |---|---|
/// | `POST /_sim/tables` `{"id", "system_dates"?, "columns"?}` | add a table |
/// | `POST /_sim/tables/{t}/rows` `[{...}, ...]` | insert rows → `{"ids": [...]}` |
/// | `POST /_sim/tables/{t}/rows/{id}/paid` (`?field=Paid`) | flip a row to paid → `{"id", "updated_at_ms"}` |
/// | `POST /_sim/tables/{t}/paid` `{"ids": [...], "field"?}` | flip several → `{"updated_at_ms": [...]}` |
/// | `POST /_sim/faults` `{"kind": "status"|"delay"|"throttle", "status"?, "ms"?, "count"?}` | inject failures |
/// | `POST /_sim/hostile` `{"rate", "faults"?, "routes"?, "seed"?}` | misbehave (``SimHostility``; routes like `GET list`); rate 0 heals |
/// | `GET /_sim/hostile` | the settings and how many replies were spoiled, by fault |
/// | `GET /_sim/stats` | ``NocoDBSimulatorStats`` |
/// | `POST /_sim/stats/reset` | forget the counters |
extension NocoDBSimulator {
    struct FaultRequest: Decodable {
        var kind: String
        var status: Int?
        var ms: Int64?
        var count: Int?
    }

    struct PaidRequest: Decodable {
        var ids: [Int64]
        var field: String?
    }

    func control(_ request: HTTPServerRequest) -> HTTPServerResponse {
        let parts = request.path.split(separator: "/").map(String.init).dropFirst()
        do {
            switch (request.method, Array(parts)) {
            case ("GET", ["stats"]):
                return .json(stats())
            case ("POST", ["stats", "reset"]):
                resetStats()
                return .json(["reset": true])
            case ("POST", ["tables"]):
                let spec = try request.jsonBody(TableSpec.self)
                createTable(spec)
                return .json(["id": spec.id])
            case ("POST", let p) where p.count == 3 && p[0] == "tables" && p[2] == "rows":
                let rows = try request.jsonBody([[String: SimNocoDBValue]].self)
                return .json(["ids": try insert(table: p[1], rows: rows)])
            case ("POST", let p) where p.count == 5 && p[0] == "tables" && p[2] == "rows" && p[4] == "paid":
                guard let id = Int64(p[3]) else { return .json(["msg": "bad id"], status: 400) }
                let at = try markPaid(table: p[1], id: id, field: request.queryValue("field") ?? "Paid")
                return .json(["id": id, "updated_at_ms": at])
            case ("POST", let p) where p.count == 3 && p[0] == "tables" && p[2] == "paid":
                let body = try request.jsonBody(PaidRequest.self)
                let times = try body.ids.map { try markPaid(table: p[1], id: $0, field: body.field ?? "Paid") }
                return .json(["updated_at_ms": times])
            case ("POST", ["hostile"]):
                switch SimHostility.read(request.body) {
                case .success(let settings):
                    hostile.configure(settings)
                    return .json(["ok": true])
                case .failure(let problem):
                    return .json(["msg": problem.text], status: 400)
                }
            case ("GET", ["hostile"]):
                return SimHostility.report(hostile)
            case ("POST", ["faults"]):
                let body = try request.jsonBody(FaultRequest.self)
                let count = max(1, body.count ?? 1)
                switch body.kind {
                case "status": inject(.status(body.status ?? 500, count: count))
                case "delay": inject(.delay(.milliseconds(body.ms ?? 1000), count: count))
                case "throttle": inject(.throttle(count: count))
                default: return .json(["msg": "kind must be status, delay or throttle"], status: 400)
                }
                return .json(["queued": count])
            default:
                return .json(["msg": "unknown control request \(request.method) \(request.path)"], status: 404)
            }
        } catch let error as SimNocoDBFailure {
            return failure(error)
        } catch {
            return .json(["msg": "\(error)"], status: 400)
        }
    }
}
