import TollgateHTTPServer
import TollgateIPC

/// The ops HTTP endpoints: `/health` (200 while live), `/ready` (200 while ready), `/metrics`
/// (Prometheus text), `/stats` (the IPC `stats` reply as JSON).
enum OpsHandler {
    static func make(_ host: ServiceHost) -> HTTPServerHandler {
        { [unowned host] request in
            guard request.method == "GET" || request.method == "HEAD" else {
                return .text("method not allowed\n", status: 405)
            }
            switch request.path {
            case "/health", "/healthz":
                let reply = await host.healthReply()
                return .json(reply, status: reply.live ? 200 : 503)
            case "/ready", "/readyz":
                let reply = await host.healthReply()
                return .json(reply, status: reply.ready ? 200 : 503)
            case "/metrics":
                return .text(
                    PrometheusText.render(host.snapshot(), registry: host.prometheus),
                    contentType: "text/plain; version=0.0.4; charset=utf-8")
            case "/stats":
                return .json(Stats.Reply(host.snapshot(), instances: await host.cluster()))
            case "/":
                return .text("\(host.kind.name) \(host.settings.instance): /health /ready /metrics /stats\n")
            default:
                return .text("not found\n", status: 404)
            }
        }
    }
}
