//! The enforcement side of policy (DESIGN §6): the deployment's policy files, the engine
//! built from them and the configuration, and reloading a changed set while running.

use std::io;
use std::path::Path;

use anyid_policy::{Engine, LoadError, PolicySet};

use crate::config::PolicyConfig;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("reading policies from {dir}: {source}")]
    Read { dir: String, source: io::Error },
    #[error("policies in {dir}: {source}")]
    Load { dir: String, source: LoadError },
}

/// The `*.cedar` files of `dir`, by name, as `(file name, text)`.
fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, PolicyError> {
    let read = || -> io::Result<Vec<(String, String)>> {
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
    };
    read().map_err(|source| PolicyError::Read {
        dir: dir.display().to_string(),
        source,
    })
}

fn loading(dir: &Path) -> impl FnOnce(LoadError) -> PolicyError {
    let dir = dir.display().to_string();
    move |source| PolicyError::Load { dir, source }
}

/// The policy set in `dir` (or the built-in one), loaded and validated.
pub fn load(dir: Option<&Path>) -> Result<PolicySet, PolicyError> {
    match dir {
        Some(dir) => PolicySet::load(&read_dir(dir)?).map_err(loading(dir)),
        None => PolicySet::defaults().map_err(loading(Path::new("(built in)"))),
    }
}

/// The engine for a configuration.
pub fn engine(config: &PolicyConfig) -> Result<Engine, PolicyError> {
    Ok(Engine::new(
        load(config.dir.as_deref())?,
        config.calendar.clone(),
        config.zones.clone(),
        config.agencies.clone(),
    ))
}

/// Read the configured folder again and put its set in force; a set that does not load is
/// refused with the reason and the set in force stays. Says what happened in the log, with
/// what set it off (`trigger`). Returns the number of policies in force.
pub fn reload(
    engine: &Engine,
    config: &PolicyConfig,
    trigger: &'static str,
) -> Result<usize, PolicyError> {
    let result = match config.dir.as_deref() {
        // The built-in set cannot change.
        None => Ok(()),
        Some(dir) => read_dir(dir).and_then(|files| engine.reload(&files).map_err(loading(dir))),
    }
    .map(|()| engine.policies().ids().len());
    match &result {
        Ok(n) => tracing::info!(policies = n, trigger, "policies reloaded"),
        Err(e) => tracing::warn!(
            trigger,
            cause = %e,
            "policies not reloaded: the set in force stays"
        ),
    }
    result
}
