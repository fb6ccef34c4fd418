//! Embed the web app's built assets (`web/dist`, made by `npm run build` in `web/`,
//! which `scripts/setup.sh` runs) so `plexus node` serves them without node at build
//! or run time. Without a built `web/dist` the crate embeds nothing and serves a page
//! that says how to build it. `PLEXUS_WEB_DIST` names another folder.

use std::{
    env,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

fn main() {
    println!("cargo:rerun-if-env-changed=PLEXUS_WEB_DIST");
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dist = env::var_os("PLEXUS_WEB_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../web/dist"));
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        // Cargo rescans a watched folder for changed files before every build.
        println!("cargo:rerun-if-changed={}", dist.display());
        collect(&dist, &dist, &mut files);
        files.sort();
    } else {
        // Watch the app folder, so a later `npm run build` (which creates `dist`) is seen.
        let web = manifest.join("../web");
        if web.is_dir() {
            println!(
                "cargo:rerun-if-changed={}",
                web.join("package.json").display()
            );
            println!("cargo:rerun-if-changed={}", web.display());
        }
    }
    // Copy the files first, so an app rebuilt while this crate compiles cannot pull
    // a file away from under `include_bytes!`.
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    let snapshot = out_dir.join("web-dist");
    let _ = fs::remove_dir_all(&snapshot);
    let mut copied = Vec::new();
    for (url, path) in &files {
        let target = snapshot.join(url.trim_start_matches('/'));
        if let Some(parent) = target.parent() {
            let _ = fs::create_dir_all(parent);
        }
        if fs::copy(path, &target).is_ok() {
            copied.push((url.clone(), target));
        }
    }
    let mut out = String::from(
        "/// Every embedded file: its URL path and its bytes.\npub(crate) static ASSETS: &[(&str, &[u8])] = &[\n",
    );
    for (url, path) in &copied {
        let _ = writeln!(
            out,
            "    ({url:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let target = out_dir.join("web_assets.rs");
    if fs::read_to_string(&target).ok().as_deref() != Some(out.as_str()) {
        fs::write(&target, out)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
    }
}

/// Every regular file under `dir`, as (`/relative/url/path`, absolute path).
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect(root, &path, out);
        } else if kind.is_file() {
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let url: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let absolute = path.canonicalize().unwrap_or(path.clone());
            out.push((format!("/{}", url.join("/")), absolute));
        }
    }
}
