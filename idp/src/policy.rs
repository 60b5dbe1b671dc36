//! The enforcement side of policy (DESIGN §6): the deployment's policy files, the engine
//! built from them and the configuration, and reloading a changed set while running.

use std::io;
use std::path::Path;

use anyid_policy::{Engine, LoadError, PolicySet};

use crate::config::PolicyConfig;

/// The `*.cedar` files of `dir`, by name, as `(file name, text)`.
pub fn read_dir(dir: &Path) -> io::Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "cedar") && path.is_file() {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((name, std::fs::read_to_string(&path)?));
        }
    }
    files.sort();
    Ok(files)
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("reading policies from {dir}: {source}")]
    Read { dir: String, source: io::Error },
    #[error("policies in {dir}: {source}")]
    Load { dir: String, source: LoadError },
}

/// The policy set in `dir` (or the built-in one), loaded and validated.
pub fn load(dir: Option<&Path>) -> Result<PolicySet, PolicyError> {
    let Some(dir) = dir else {
        return PolicySet::defaults().map_err(|source| PolicyError::Load {
            dir: "(built in)".into(),
            source,
        });
    };
    let name = dir.display().to_string();
    let files = read_dir(dir).map_err(|source| PolicyError::Read {
        dir: name.clone(),
        source,
    })?;
    PolicySet::load(&files).map_err(|source| PolicyError::Load { dir: name, source })
}

/// The engine for a configuration.
pub fn engine(config: &PolicyConfig) -> Result<Engine, PolicyError> {
    let set = load(config.dir.as_deref())?;
    Ok(Engine::new(
        set,
        config.calendar.clone(),
        config.zones.clone(),
    ))
}

/// Read the configured folder again and put its set in force; when it does not load, the
/// set in force stays and the error says why. Returns the number of policies in force.
pub fn reload(engine: &Engine, config: &PolicyConfig) -> Result<usize, PolicyError> {
    let Some(dir) = config.dir.as_deref() else {
        // Nothing to reload: the built-in set cannot change.
        return Ok(engine.policies().ids().len());
    };
    let name = dir.display().to_string();
    let files = read_dir(dir).map_err(|source| PolicyError::Read {
        dir: name.clone(),
        source,
    })?;
    engine
        .reload(&files)
        .map_err(|source| PolicyError::Load { dir: name, source })?;
    Ok(engine.policies().ids().len())
}
