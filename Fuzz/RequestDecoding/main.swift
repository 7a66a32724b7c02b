// libFuzzer target: the request bodies of both APIs, as the daemons decode them
// (SessionHostModel, compiled into this executable by scripts/fuzz).
//
// Property: decoding never crashes, and any body a daemon would accept (decoded, then
// validated where the daemon validates) encodes to JSON that decodes to the same value.
// A violation traps, which libFuzzer reports with the input that caused it.
import FoundationEssentials

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestDecoding(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Data(bytes: data, count: size)
    // The agent's Unix-socket API (docs/agent-api.md).
    roundTrip(HeartbeatRequest.self, body)
    roundTrip(AllocationRequest.self, body) { request in
        _ = try SessionRules.validatedSessionID(request.sessionId)
        try SessionRules.validateCookie(request.sessionCookie)
    }
    // gsmsd's public API (docs/rest-api.md).
    roundTrip(SessionHostAllocationRequest.self, body) { _ = try $0.validated() }
    roundTrip(ClusterRequest.self, body) { _ = try $0.validated() }
    // gsmsd's agent-facing API (docs/control-plane-api.md).
    roundTrip(HostRegistration.self, body) { try $0.validate() }
    roundTrip(HostHeartbeat.self, body)
    roundTrip(HostSessionReference.self, body)
    return 0
}

func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ body: Data, validate: (T) throws -> Void = { _ in }) {
    guard let value = try? JSONDecoder().decode(type, from: body) else { return }
    do {
        try validate(value)
    } catch {
        return
    }
    guard let encoded = try? JSONEncoder().encode(value) else {
        preconditionFailure("\(type): an accepted body does not encode: \(value)")
    }
    guard let again = try? JSONDecoder().decode(type, from: encoded), again == value else {
        preconditionFailure(
            "\(type): an accepted body does not survive encoding: \(value) -> \(String(decoding: encoded, as: UTF8.self))"
        )
    }
}
