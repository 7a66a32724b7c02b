import TitleTokens

/// Verifies `Authorization: XBL3.0 x=<userhash>;<token>` against the HS256 key of
/// `--token-key-file`; every failure is a 401 with the token library's stable code.
struct JWTTitleCredentialVerifier: TitleCredentialVerifier {
    let authority: TitleTokenAuthority

    /// Loads the key file; an unreadable or short key stops gsmsd with a clear message.
    static func load(keyFile: String) async throws(TitleTokenError) -> JWTTitleCredentialVerifier {
        let key = try TitleTokenKey(contentsOfFile: keyFile)
        return JWTTitleCredentialVerifier(authority: await TitleTokenAuthority(key: key))
    }

    func titles(authorization: String?) async throws(APIError) -> Set<String> {
        do {
            let token = try XBLAuthorization.token(fromHeader: authorization)
            return Set(try await authority.verify(token).titles)
        } catch {
            throw APIError(error)
        }
    }
}
