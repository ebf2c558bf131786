//! The house's shape, checked: `src/lib.rs` lists the modules in the order an article
//! travels, and each module uses only modules listed before it. That order being a valid
//! one is what "no import cycle" means; a new `crate::x` path that breaks it fails here
//! with the offending module and file named.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The modules declared by `mod` and `pub mod` lines of `src/lib.rs`, in order.
fn listed_modules() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("mod "))?;
            Some(rest.split(';').next()?.to_owned())
        })
        .collect()
}

/// The Rust files of module `name`: `src/name.rs`, or every file under `src/name/`.
fn files_of(name: &str) -> Vec<PathBuf> {
    let file = src().join(format!("{name}.rs"));
    if file.exists() {
        return vec![file];
    }
    let mut files = Vec::new();
    let mut dirs = vec![src().join(name)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The modules `text` names as `crate::<module>` or in a `crate::{a, b::C}` group,
/// outside comments and outside its unit tests (which may reach anywhere: they are not part
/// of the shipped graph).
fn used_modules(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    // The unit tests: a `#[cfg(test)]` line over a `mod tests` (any visibility), to the end.
    let end = (0..lines.len())
        .find(|&i| {
            lines[i].trim() == "#[cfg(test)]"
                && lines
                    .get(i + 1)
                    .is_some_and(|next| next.trim_end().ends_with("mod tests {"))
        })
        .unwrap_or(lines.len());
    let code: String = lines[..end]
        .iter()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| format!("{line}\n"))
        .collect();
    let name = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect()
    };
    let mut used = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level entries of the group, up to its closing brace.
            let mut depth = 0;
            let mut entry_start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        used.push(name(&group[entry_start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        used.push(name(&group[entry_start..i]));
                        entry_start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            used.push(name(rest));
        }
    }
    used.retain(|n| !n.is_empty());
    used
}

#[test]
fn each_module_uses_only_modules_listed_before_it() {
    let modules = listed_modules();
    assert!(modules.len() > 10, "lib.rs lists {modules:?}");
    let position: HashMap<&str, usize> = modules
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let mut wrong = Vec::new();
    for (at, module) in modules.iter().enumerate() {
        let files = files_of(module);
        assert!(!files.is_empty(), "module {module} has no files");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for used in used_modules(&text) {
                if let Some(&used_at) = position.get(used.as_str())
                    && used_at > at
                {
                    wrong.push(format!(
                        "{module} ({}) uses crate::{used}, listed after it",
                        file.strip_prefix(src()).unwrap().display()
                    ));
                }
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "modules must use only modules listed before them in src/lib.rs:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_module_file_is_listed() {
    let modules = listed_modules();
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        assert!(
            modules.contains(&name),
            "src/{name} is not listed in src/lib.rs"
        );
    }
}

#[test]
fn the_check_sees_a_backward_use() {
    let text = "use crate::store::Store;\n// crate::http in a comment\nuse crate::{config::{Site, Section}, digest};\n#[cfg(test)]\npub(super) mod tests {\n    use crate::app;\n}\n";
    assert_eq!(used_modules(text), ["store", "config", "digest"]);
}
