//! The data directory is the node's alone: 0700, and every file in it 0600, so no other account on the
//! host reads the ledger's transactions, loan terms or documents.

use std::path::Path;

use crate::node::NodeError;

/// Mode of the data directory and every directory in it.
pub const DATA_DIR_MODE: u32 = 0o700;
/// Mode of every file in the data directory.
pub const DATA_FILE_MODE: u32 = 0o600;

/// Writes a new file readable by the owner only (0600 from its creation, never wider for a moment),
/// refusing to replace one, and syncs it: keys and certificates are written this way.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(DATA_FILE_MODE);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes `dir` and everything in it private to this account. Files the store makes later are out of
/// everyone else's reach through the 0700 directories above them.
pub fn make_private(dir: &Path) -> Result<(), NodeError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let io = |e: std::io::Error, p: &Path| NodeError::io(p.display().to_string(), e);
        let mut pending = vec![dir.to_owned()];
        while let Some(path) = pending.pop() {
            let meta = std::fs::symlink_metadata(&path).map_err(|e| io(e, &path))?;
            if meta.file_type().is_symlink() {
                continue;
            }
            let mode = if meta.is_dir() {
                DATA_DIR_MODE
            } else {
                DATA_FILE_MODE
            };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .map_err(|e| io(e, &path))?;
            if meta.is_dir() {
                for entry in std::fs::read_dir(&path).map_err(|e| io(e, &path))? {
                    pending.push(entry.map_err(|e| io(e, &path))?.path());
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
