//! The demo's HTML. Everything interpolated is escaped.

use axes_axum::escape_html as esc;

const STYLE: &str = r#"
:root { color-scheme: light; --fg:#1d2330; --muted:#5b6475; --line:#dde1e7; --accent:#2855c5; --bad:#b3261e; }
* { box-sizing: border-box; }
body { margin:0; font:16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:#f5f6f8; }
header { background:#fff; border-bottom:1px solid var(--line); padding:.75rem 1.5rem; display:flex; gap:1rem; align-items:center; }
header strong { margin-right:auto; }
header a { color:var(--accent); text-decoration:none; }
main { max-width:26rem; margin:3rem auto; background:#fff; border:1px solid var(--line); border-radius:8px; padding:2rem; }
h1 { font-size:1.3rem; margin:0 0 1rem; }
label { display:block; font-size:.9rem; color:var(--muted); margin:.75rem 0 .25rem; }
input { width:100%; padding:.5rem .6rem; border:1px solid var(--line); border-radius:6px; font:inherit; }
button { margin-top:1.25rem; padding:.55rem 1.1rem; border:0; border-radius:6px; background:var(--accent); color:#fff; font:inherit; cursor:pointer; }
.error { color:var(--bad); background:#fdecea; border-radius:6px; padding:.5rem .75rem; margin:0 0 .5rem; }
.muted { color:var(--muted); font-size:.9rem; }
form.inline { display:inline; }
form.inline button { margin:0; padding:.3rem .8rem; }
"#;

/// A whole page around `body`.
pub fn layout(title: &str, user: Option<&str>, admin: bool, body: &str) -> String {
    let mut nav = String::new();
    if admin && user.is_some() {
        nav.push_str(r#"<a href="/admin/">Admin</a>"#);
    }
    match user {
        Some(u) => nav.push_str(&format!(
            r#"<span class="muted">{}</span><form class="inline" method="post" action="/logout"><button>Log out</button></form>"#,
            esc(u)
        )),
        None => nav.push_str(r#"<a href="/login">Log in</a>"#),
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · axes demo</title><style>{STYLE}</style></head>\
<body><header><strong><a href=\"/\">axes demo</a></strong>{nav}</header><main>{body}</main></body></html>\n",
        title = esc(title),
    )
}

/// The login form. `username` is prefilled; `error` shown above the form.
pub fn login(
    username_field: &str,
    password_field: &str,
    username: &str,
    error: Option<&str>,
    user: Option<&str>,
) -> String {
    let mut body = String::from("<h1>Log in</h1>");
    if let Some(error) = error {
        body.push_str(&format!(
            r#"<p class="error" role="alert">{}</p>"#,
            esc(error)
        ));
    }
    body.push_str(&format!(
        r#"<form method="post" action="/login">
<label for="username">Username</label>
<input id="username" name="{uf}" value="{username}" autocomplete="username" autofocus required>
<label for="password">Password</label>
<input id="password" name="{pf}" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>
<p class="muted">Protected by axes: too many wrong passwords lock you out.</p>"#,
        uf = esc(username_field),
        pf = esc(password_field),
        username = esc(username),
    ));
    layout("Log in", user, false, &body)
}

/// The home page.
pub fn home(user: Option<&str>, admin: bool) -> String {
    let body = match user {
        Some(u) => format!(
            "<h1>Welcome</h1><p>You are logged in as <strong>{}</strong>.</p>{}",
            esc(u),
            if admin {
                r#"<p><a href="/admin/">Open the axes admin</a></p>"#
            } else {
                ""
            }
        ),
        None => {
            r#"<h1>axes demo</h1><p>You are not logged in.</p><p><a href="/login">Log in</a></p>"#
                .to_owned()
        }
    };
    layout("Home", user, admin, &body)
}

/// The page `lockout_url` may point at (`/locked?username=…`).
pub fn locked(username: &str) -> String {
    let who = if username.is_empty() {
        String::new()
    } else {
        format!(" for <strong>{}</strong>", esc(username))
    };
    layout(
        "Locked out",
        None,
        false,
        &format!(
            "<h1>Locked out</h1><p>Too many failed login attempts{who}. Try again later, or ask an admin to unlock you.</p>"
        ),
    )
}
