//! Private, atomic file writes and bounded reads.
//!
//! A key file is written to a hidden temporary file in the same folder (`.<name>.tmp-…`,
//! mode 0600), flushed to disk, then moved into place, and the folder is flushed. A
//! crash leaves either the old file or the new one, never a partial one; a leftover
//! temporary file starts with `.`, which no wallet or hotkey name may, so listings skip it.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Write},
    path::{Path, PathBuf},
};

use crate::{WalletError, keystore::fill_random};

/// Whether [`write_atomic`] put the file in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Written {
    /// The file now holds the new contents.
    Done,
    /// The file already existed and `overwrite` was false; nothing changed.
    AlreadyExists,
}

/// Create `dir` and any missing parents, each with mode 0700 on unix.
pub(crate) fn create_private_dir_all(dir: &Path) -> Result<(), WalletError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| WalletError::io("create folder", dir, e))
}

/// Write `contents` to `path` atomically with mode 0600. Without `overwrite`, an
/// existing file is left alone (checked atomically at the final step).
pub(crate) fn write_atomic(
    path: &Path,
    contents: &[u8],
    overwrite: bool,
) -> Result<Written, WalletError> {
    let staged = stage(path, contents)?;
    staged.commit(overwrite)
}

/// A fully written and flushed temporary file, not yet in place. Dropping it removes it.
pub(crate) struct Staged {
    temp: PathBuf,
    dest: PathBuf,
}

/// Write `contents` to a fresh temporary file beside `path` and flush it.
pub(crate) fn stage(path: &Path, contents: &[u8]) -> Result<Staged, WalletError> {
    let dir = parent(path)?;
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| WalletError::io("write", path, io::ErrorKind::InvalidInput.into()))?;
    let mut tag = [0u8; 8];
    fill_random(&mut tag)?;
    let temp = dir.join(format!(
        ".{file_name}.tmp-{}-{}",
        std::process::id(),
        hex::encode(tag)
    ));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&temp)
        .map_err(|e| WalletError::io("create", &temp, e))?;
    // From here on the guard removes the temporary file if anything fails.
    let staged = Staged {
        temp,
        dest: path.to_path_buf(),
    };
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| WalletError::io("write", &staged.temp, e))?;
    Ok(staged)
}

impl Staged {
    /// Move the temporary file into place and flush the folder.
    pub(crate) fn commit(self, overwrite: bool) -> Result<Written, WalletError> {
        if overwrite {
            fs::rename(&self.temp, &self.dest)
                .map_err(|e| WalletError::io("replace", &self.dest, e))?;
        } else {
            // A hard link fails atomically if the destination exists, so two writers
            // racing for one name cannot both win.
            match fs::hard_link(&self.temp, &self.dest) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Ok(Written::AlreadyExists);
                }
                // File systems without hard links: check, then rename.
                Err(_) => {
                    if self.dest.exists() {
                        return Ok(Written::AlreadyExists);
                    }
                    fs::rename(&self.temp, &self.dest)
                        .map_err(|e| WalletError::io("create", &self.dest, e))?;
                }
            }
        }
        sync_dir(parent(&self.dest)?)?;
        // `self` drops here and removes the temporary name if it is still there (after
        // a hard link); after a rename there is nothing left to remove.
        Ok(Written::Done)
    }

    /// The temporary file's path.
    #[cfg(test)]
    pub(crate) fn temp_path(&self) -> &Path {
        &self.temp
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Best effort: it may already have been renamed away.
        let _ = fs::remove_file(&self.temp);
    }
}

/// Read a whole file, refusing ones longer than `limit` bytes.
pub(crate) fn read_bounded(path: &Path, limit: usize) -> Result<Vec<u8>, WalletError> {
    let file = File::open(path).map_err(|e| WalletError::io("read", path, e))?;
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    file.take(cap)
        .read_to_end(&mut out)
        .map_err(|e| WalletError::io("read", path, e))?;
    if out.len() > limit {
        return Err(WalletError::corrupt(
            path,
            format!("it is larger than the {limit} bytes such a file can hold"),
        ));
    }
    Ok(out)
}

/// Whether `path` exists as anything (a dangling link counts: never write through it).
pub(crate) fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn parent(path: &Path) -> Result<&Path, WalletError> {
    path.parent()
        .ok_or_else(|| WalletError::io("write", path, io::ErrorKind::InvalidInput.into()))
}

fn sync_dir(dir: &Path) -> Result<(), WalletError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| WalletError::io("flush folder", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut out: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_write_leaves_only_the_final_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        assert_eq!(write_atomic(&path, b"one", false).unwrap(), Written::Done);
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(names(dir.path()), ["key"]);
    }

    #[test]
    fn an_existing_file_is_kept_unless_overwrite_is_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        assert_eq!(write_atomic(&path, b"one", false).unwrap(), Written::Done);
        assert_eq!(
            write_atomic(&path, b"two", false).unwrap(),
            Written::AlreadyExists
        );
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(names(dir.path()), ["key"], "no temporary file is left");
        assert_eq!(write_atomic(&path, b"two", true).unwrap(), Written::Done);
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["key"]);
    }

    #[test]
    fn a_crash_before_the_rename_leaves_the_old_file_and_a_hidden_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        assert_eq!(write_atomic(&path, b"old", false).unwrap(), Written::Done);
        let staged = stage(&path, b"new").unwrap();
        let temp = staged.temp_path().to_path_buf();
        // The process dies here: no rename, no destructor.
        std::mem::forget(staged);
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert!(
            temp.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(".key.tmp-")
        );
        assert_eq!(fs::read(&temp).unwrap(), b"new");
        // A later write is unaffected by the leftover.
        assert_eq!(write_atomic(&path, b"newer", true).unwrap(), Written::Done);
        assert_eq!(fs::read(&path).unwrap(), b"newer");
    }

    #[test]
    fn a_dropped_stage_removes_its_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let staged = stage(&dir.path().join("key"), b"x").unwrap();
        drop(staged);
        assert!(names(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn files_are_0600_and_folders_0700() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_private_dir_all(&nested).unwrap();
        let path = nested.join("key");
        assert_eq!(write_atomic(&path, b"x", false).unwrap(), Written::Done);
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
    }

    #[test]
    fn oversized_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        fs::write(&path, vec![b'x'; 101]).unwrap();
        assert!(matches!(
            read_bounded(&path, 100),
            Err(WalletError::Corrupt { .. })
        ));
        assert_eq!(read_bounded(&path, 101).unwrap().len(), 101);
    }
}
