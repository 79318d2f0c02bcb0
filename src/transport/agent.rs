//! The ureq agent: one connection pool per session family, redirects off, TLS as the
//! crate's features choose.

/// The agent of a session family.
pub(crate) fn build_agent(user_agent: &str, loopback: bool) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        // Error statuses are answers we read (the server's message), not ureq errors.
        .http_status_as_error(false)
        // A followed redirect turns a POST/PUT into a bodiless GET and drops auth: never.
        .max_redirects(0)
        .user_agent(user_agent);
    config = with_tls(config);
    if loopback {
        // Proxies cannot reach the caller's loopback; ignore HTTP(S)_PROXY for it.
        config = config.proxy(None);
    }
    config.build().into()
}

type AgentConfig = ureq::config::ConfigBuilder<ureq::typestate::AgentScope>;

#[cfg(feature = "native-tls")]
fn with_tls(config: AgentConfig) -> AgentConfig {
    // The platform's TLS library with its root store: what TLS-inspecting proxies need.
    config.tls_config(
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build(),
    )
}

#[cfg(all(feature = "platform-verifier", not(feature = "native-tls")))]
fn with_tls(config: AgentConfig) -> AgentConfig {
    config.tls_config(ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier).build())
}

/// rustls with Mozilla's roots (ureq's default), or no TLS at all without a TLS feature
/// (plain http to loopback only: the emulator).
#[cfg(not(any(feature = "native-tls", feature = "platform-verifier")))]
fn with_tls(config: AgentConfig) -> AgentConfig {
    config
}
