import Logging
import Testing
import TollgateCore
import TollgateHTTP
import TollgateHTTPServer
import TollgateRedis
import TollgateSimulators
import TollgateTelegram
import TollgateTestKit

@Suite("Media uploads and token redaction", .timeLimit(.minutes(2)))
struct MediaAndRedactionTests {
    @Test("A file is uploaded once: later sends use the cached file_id, across clients sharing Redis")
    func uploadOnce() async throws {
        let redisServer = try RedisServer()
        let pool = RedisClientPool(url: try RedisURL(redisServer.url), name: "media", size: 2, logger: quietLogger)
        defer { Task { await pool.close() } }
        try await withSimulator { sim in
            sim.simulator.addUsers([SimUser(id: 1), SimUser(id: 2), SimUser(id: 3)])
            let cache = RedisMediaCache(redis: pool, keys: KeySpace(prefix: "t"), botID: "123456", logger: quietLogger)
            let video = FileUpload(filename: "reminder.mp4", contentType: "video/mp4", bytes: Array(repeating: 7, count: 50_000))
            let first = sim.client(mediaCache: cache)
            let m1 = try await first.sendVideo(chatID: 1, video: .upload(video), caption: "watch")
            let m2 = try await first.sendVideo(chatID: 2, video: .upload(video))
            // Another gateway process (another client, same Redis) reuses it too.
            let second = sim.client(mediaCache: cache)
            let m3 = try await second.sendVideo(chatID: 3, video: .upload(video))
            #expect(sim.simulator.counters.uploads == 1)
            #expect(m1.video?.fileID != nil)
            #expect(m2.video?.fileID == m1.video?.fileID)
            #expect(m3.video?.fileID == m1.video?.fileID)
            #expect(first.stats.uploadsAvoided == 1)
            #expect(second.stats.uploadsAvoided == 1)
            #expect(sim.simulator.sent(to: 1).first?.caption == "watch")

            // A cached file_id that Telegram no longer knows is dropped and the file uploaded again.
            let other = FileUpload(filename: "doc.pdf", contentType: "application/pdf", bytes: Array("pdf".utf8))
            await cache.store(fileID: "STALE-ID", forKey: other.contentKey)
            let doc = try await first.sendDocument(chatID: 1, document: .upload(other))
            #expect(doc.document?.fileName == "doc.pdf")
            #expect(await cache.fileID(forKey: other.contentKey) == doc.document?.fileID)
            #expect(sim.simulator.counters.uploads == 2)
        }
    }

    @Test("sendMediaGroup attaches uploads and mixes file ids, URLs and photos")
    func mediaGroup() async throws {
        try await withSimulator(limits: .off) { sim in
            sim.simulator.addUsers([SimUser(id: 9)])
            let photo = FileUpload(filename: "a.jpg", contentType: "image/jpeg", bytes: Array(repeating: 1, count: 1000))
            let first = try await sim.telegram.sendPhoto(chatID: 9, photo: .url("https://example.com/x.jpg"))
            let known = try #require(first.photo?.first?.fileID)
            let album = try await sim.telegram.sendMediaGroup(
                chatID: 9,
                media: [
                    InputMedia(.photo, .upload(photo), caption: "one"), InputMedia(.photo, .fileID(known)),
                    InputMedia(.video, .url("https://example.com/v.mp4")),
                ])
            #expect(album.count == 3)
            #expect(Set(album.compactMap(\.mediaGroupID)).count == 1)
            #expect(album[0].caption == "one")
            #expect(sim.simulator.counters.uploads == 1)
            await #expect(throws: TelegramError.self) {
                _ = try await sim.telegram.sendMediaGroup(chatID: 9, media: [InputMedia(.photo, .fileID(known))])
            }
            await #expect(throws: TelegramError.self) {
                _ = try await sim.telegram.sendPhoto(chatID: 9, photo: .fileID("no-such-file"))
            }
        }
    }

    @Test("The bot token never appears in logs, errors or stats — whatever goes wrong")
    func tokenNeverLeaks() async throws {
        let capture = LogCapture()
        let logger = capture.logger("telegram")
        var descriptions: [String] = []
        // A hostile API that echoes the request path (with the token) in every error.
        try await withHTTPServer(handler: { request in
            let echoed = "Bad Request: you asked for \(request.path) at http://h\(request.path)"
            let status = request.path.hasSuffix("getMe") ? 400 : 500
            return HTTPServerResponse(
                status: status, headers: [("Content-Type", "application/json")],
                body: Array(#"{"ok":false,"error_code":\#(status),"description":"\#(echoed)"}"#.utf8))
        }) { hostile in
            let http = HTTPClient(name: "leak", logger: logger)
            defer { http.shutdown() }
            let client = TelegramClient(token: Secret(testToken), apiURL: hostile, http: http, logger: logger)
            for call in 0..<3 {
                do throws(TelegramError) {
                    switch call {
                    case 0: _ = try await client.getMe()
                    case 1: _ = try await client.sendMessage(chatID: 1, text: "x")
                    default: _ = try await client.getUpdates(offset: 1, timeout: 0)
                    }
                    Issue.record("must fail")
                } catch {
                    descriptions.append(error.description)
                    descriptions.append("\(error)")
                    descriptions.append(error.detail)
                }
            }
            #expect(descriptions.contains { $0.contains("/bot<redacted>") })
            descriptions.append(contentsOf: client.stats.calls.keys)
            descriptions.append(contentsOf: client.stats.errors.keys)
        }
        // Nothing listens here: a transport error names the URL.
        let http = HTTPClient(name: "leak2", logger: logger)
        defer { http.shutdown() }
        let refused = TelegramClient(
            token: Secret(testToken), apiURL: "http://127.0.0.1:\(TestNetwork.freePort())", http: http, logger: logger)
        do throws(TelegramError) {
            _ = try await refused.sendMessage(chatID: 1, text: "x")
            Issue.record("must fail")
        } catch {
            #expect(error.code == .transient)
            #expect(!error.mayHaveTakenEffect, "nothing reached the server")
            descriptions.append(error.description)
        }
        #expect(descriptions.count >= 10)
        for text in descriptions { #expect(!text.contains(tokenSecretPart), "leaked in: \(text)") }
        #expect(!capture.lines.isEmpty, "the client logs its calls")
        for line in capture.lines { #expect(!line.contains(tokenSecretPart), "leaked in log: \(line)") }
    }
}
