import TollgateHTTP

/// Webhook delivery: POSTs pending updates to the bot while a webhook is set.
extension TelegramSimulator {
    func deliverWebhooks(using client: HTTPClient) async {
        let base = configuration.webhookRetryDelay.secondsDouble
        let cap = configuration.maxWebhookRetryDelay.secondsDouble
        let timeout = configuration.webhookTimeout
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let (batch, nextRetry, webhook, startedAt) = world.withLock { w in
                    let taken = w.takeWebhookBatch()
                    return (taken.items, taken.nextRetry, w.webhook, w.startedAt)
                }
                if let webhook {
                    for item in batch {
                        group.addTask {
                            let (ok, retryAfter, error) = await self.post(item.json, to: webhook, client: client, timeout: timeout)
                            self.world.withLock {
                                $0.webhookResult(
                                    id: item.id, success: ok, retryAfter: retryAfter, error: error, baseDelay: base, maxDelay: cap)
                            }
                            self.webhookWakeup.signal()
                        }
                    }
                }
                let deadline = nextRetry.map { startedAt + .milliseconds(Int64($0 * 1000) + 1) }
                await webhookWakeup.wait(until: deadline)
            }
        }
    }

    /// One POST: success, the wait a 429 asked for, and an error text for getWebhookInfo.
    private func post(
        _ json: [UInt8], to webhook: SimWorld.Webhook, client: HTTPClient, timeout: Duration
    ) async -> (Bool, Double?, String?) {
        var headers = [("Content-Type", "application/json")]
        if let secret = webhook.secret { headers.append(("X-Telegram-Bot-Api-Secret-Token", secret)) }
        let request = HTTPRequest(
            method: "POST", url: webhook.url, headers: headers, body: .bytes(json, contentType: "application/json"),
            connectTimeout: .seconds(5), timeout: timeout)
        do {
            let response = try await client.execute(request)
            if response.isSuccess { return (true, nil, nil) }
            var retryAfter = response.retryAfter?.secondsDouble
            if response.status == 429, let body = SimJSON.parse(response.body),
                let seconds = body["parameters"]?["retry_after"]?.int64Value
            {
                retryAfter = Double(seconds)
            }
            return (false, retryAfter, "Wrong response from the webhook: \(response.status)")
        } catch {
            return (false, nil, "Connection failed: \(error.code.rawValue)")
        }
    }
}

extension Duration {
    var secondsDouble: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
