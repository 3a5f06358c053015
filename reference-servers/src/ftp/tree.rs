//! The user's file tree. Clients name files by virtual paths (`/docs/a.txt`)
//! relative to the user's root; they are normalised lexically (`..` stops at
//! the root) and then checked on disk, following symlinks, to still be inside
//! the root (RFC 2577 §5: a client must not reach files outside its area).

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::calendar::{civil_from_days, MONTHS};

pub struct Tree {
    root: PathBuf,
}

fn not_found() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such file or directory")
}

impl Tree {
    /// `root` must be canonical.
    pub fn new(root: PathBuf) -> Self {
        Tree { root }
    }

    /// `cwd` joined with `arg`, normalised; always starts with `/`.
    pub fn virtual_path(cwd: &str, arg: &str) -> String {
        let mut parts: Vec<&str> = Vec::new();
        let start = if arg.starts_with('/') { "" } else { cwd };
        for p in start.split('/').chain(arg.split('/')) {
            match p {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                other => parts.push(other),
            }
        }
        format!("/{}", parts.join("/"))
    }

    fn on_disk(&self, vpath: &str) -> PathBuf {
        self.root.join(vpath.trim_start_matches('/'))
    }

    fn inside(&self, real: &Path) -> io::Result<PathBuf> {
        let canon = real.canonicalize()?;
        if canon.starts_with(&self.root) {
            Ok(canon)
        } else {
            // Outside the root is reported exactly like a missing file.
            Err(not_found())
        }
    }

    /// An existing file or directory.
    pub fn existing(&self, vpath: &str) -> io::Result<PathBuf> {
        if vpath.contains('\0') {
            return Err(not_found());
        }
        self.inside(&self.on_disk(vpath))
    }

    /// A path that may not exist yet, whose parent directory does. Never the
    /// root itself.
    pub fn creatable(&self, vpath: &str) -> io::Result<PathBuf> {
        let (parent, name) = vpath.rsplit_once('/').ok_or_else(not_found)?;
        if name.is_empty() || vpath.contains('\0') {
            return Err(not_found());
        }
        let dir = self.existing(if parent.is_empty() { "/" } else { parent })?;
        if !dir.is_dir() {
            return Err(not_found());
        }
        let target = dir.join(name);
        // An existing symlink must not lead out of the root either.
        if std::fs::symlink_metadata(&target).is_ok() {
            return self.inside(&target);
        }
        Ok(target)
    }

    pub fn is_root(&self, real: &Path) -> bool {
        real == self.root
    }

    /// Directory entries, sorted by name.
    pub fn entries(&self, dir: &Path) -> io::Result<Vec<(String, Metadata)>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let Ok(meta) = e.metadata() else { continue };
            out.push((e.file_name().to_string_lossy().into_owned(), meta));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

/// One `ls -l` style line for LIST. RFC 959 leaves the format open; this is
/// the Unix format that clients parse.
pub fn list_line(name: &str, meta: &Metadata) -> String {
    let kind = if meta.is_dir() { 'd' } else { '-' };
    let perm = if meta.is_dir() {
        "rwxr-xr-x"
    } else {
        "rw-r--r--"
    };
    let t = civil(mtime(meta));
    let month = MONTHS[(t.1 as usize).saturating_sub(1) % 12];
    format!(
        "{kind}{perm} 1 ftp ftp {:>10} {month} {:>2} {:04} {name}",
        meta.len(),
        t.2,
        t.0
    )
}

/// MLSD/MLST facts (RFC 3659 §7): `type=file;size=12;modify=…;perm=…; name`.
pub fn mlsx_facts(name: &str, meta: &Metadata, kind: Option<&str>) -> String {
    let kind = kind.unwrap_or(if meta.is_dir() { "dir" } else { "file" });
    let perm = if meta.is_dir() { "elcmfp" } else { "radfw" };
    let mut facts = format!("type={kind};");
    if !meta.is_dir() {
        facts.push_str(&format!("size={};", meta.len()));
    }
    facts.push_str(&format!("modify={};perm={perm}; {name}", timeval(meta)));
    facts
}

fn mtime(meta: &Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `YYYYMMDDHHMMSS` in UTC (RFC 3659 §2.3), for MDTM and `modify=`.
pub fn timeval(meta: &Metadata) -> String {
    let (y, mo, d, h, mi, s) = civil(mtime(meta));
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

/// Seconds since 1970 → (year, month, day, hour, minute, second), UTC.
fn civil(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem / 60 % 60) as u32,
        (rem % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_paths_stay_under_the_root() {
        assert_eq!(Tree::virtual_path("/", "a/b"), "/a/b");
        assert_eq!(
            Tree::virtual_path("/a", "../../../etc/passwd"),
            "/etc/passwd"
        );
        assert_eq!(Tree::virtual_path("/a/b", ".."), "/a");
        assert_eq!(Tree::virtual_path("/a", "/x/./y/"), "/x/y");
        assert_eq!(Tree::virtual_path("/a", ""), "/a");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(civil(1_700_000_000), (2023, 11, 14, 22, 13, 20));
    }

    #[test]
    fn symlinks_out_of_the_root_are_not_found() {
        let outside = std::env::temp_dir().join(format!("ftp-tree-out-{}", std::process::id()));
        let root = std::env::temp_dir().join(format!("ftp-tree-root-{}", std::process::id()));
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(outside.join("secret"), b"x").unwrap();
        let _ = std::os::unix::fs::symlink(&outside, root.join("link"));
        let t = Tree::new(root.canonicalize().unwrap());
        assert!(t.existing("/link/secret").is_err());
        assert!(t.creatable("/link/new").is_err());
        assert!(t.existing("/").is_ok());
        let _ = std::fs::remove_dir_all(&root);
        let _ = std::fs::remove_dir_all(&outside);
    }
}
