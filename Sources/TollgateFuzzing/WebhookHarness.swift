import TollgateCore
import TollgateGateway
import TollgateHTTPServer

/// Bytes on the webhook listener: the server's own parsing pipeline, then the receiver's checks.
enum WebhookHarness {
    static let secret = Secret("fuzz-secret_token-1")

    static func run(_ data: [UInt8]) {
        let outcome = HTTPRequestProbe.run(data, maxBodyBytes: 64 * 1024)
        for request in outcome.requests {
            precondition(request.body.count <= 64 * 1024, "a body over the cap reached the handler")
            switch WebhookReceiver.admit(request, path: "/hook", secret: secret) {
            case .update(let update):
                // Only a request that carried the secret gets this far.
                precondition(request.header("X-Telegram-Bot-Api-Secret-Token") == secret.exposedValue)
                _ = update.chatID
                _ = update.message?.command
            case .notFound, .methodNotAllowed, .unauthorized, .notAnUpdate:
                break
            }
        }
    }
}
