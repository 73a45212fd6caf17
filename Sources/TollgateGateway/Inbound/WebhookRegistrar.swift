import Logging
import ServiceLifecycle
import TollgateCoordination
import TollgateCore
import TollgateTelegram

/// In webhook mode, the leader tells Telegram where to POST updates (`setWebhook` with the secret
/// token and `allowed_updates`: messages and button presses, plus the club's membership changes
/// and join requests when a club is configured), retrying until Telegram agrees.
struct WebhookRegistrar: Service {
    let telegram: TelegramClient
    let url: String
    let secret: Secret
    let maxConnections: Int
    let allowedUpdates: [String]
    let leadership: any Leadership
    let logger: Logger

    func run() async {
        await cancelWhenGracefulShutdown {
            await leadership.whileLeading { _ in
                var backoff = Backoff(base: .seconds(1), cap: .seconds(60))
                while !Task.isCancelled {
                    do throws(TelegramError) {
                        try await telegram.setWebhook(
                            url: url, secretToken: secret.exposedValue, maxConnections: maxConnections,
                            allowedUpdates: allowedUpdates)
                        logger.info("webhook set", metadata: ["url": "\(Redactor.shared.redact(url))"])
                        // Stay registered for the term.
                        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                        return
                    } catch {
                        if error.code == .cancelled { return }
                        logger.warning("setWebhook failed", metadata: ["error": "\(error)"])
                        // retry_after is bounded by the client (TELEGRAM_MAX_RETRY_AFTER).
                        try? await SlicedSleep.sleep(for: max(backoff.next(), error.retryAfter ?? .zero))
                    }
                }
            }
        }
    }
}
