/// Decides which titles a caller of the public API may use, from its `Authorization` header
/// (`XBL3.0 x=<userhash>;<token>`, SPEC §2).
protocol TitleCredentialVerifier: Sendable {
    /// The title ids the caller's valid token covers; throws a 401 `APIError` for a missing,
    /// malformed, badly signed or expired credential.
    func titles(authorization: String?) async throws(APIError) -> Set<String>
}
