//! A node span's metadata while the node mappers build it: the node's own
//! execution metadata, then the keys the mappers set.
//!
//! Setting a key is Python's `d[key] = value`: the value takes the key's
//! place when the list has it, else it is appended. With a plain list each
//! of the eleven keys a node gets is looked for through the whole list, and
//! the list's own keys sit in the input text, all over a large run's 17 MB.
//! Here one pass over the node's keys notes where the mappers' keys are, and
//! each setting goes straight to its place.

use std::borrow::Cow;

use crate::json::{Json, Obj};

/// The keys the node mappers set in a node's metadata.
#[derive(Clone, Copy)]
pub(super) enum MetaKey {
    WorkflowRunId,
    NodeExecutionId,
    TenantId,
    AppId,
    AppName,
    NodeTitle,
    NodeType,
    Status,
    LsProvider,
    LsModelName,
    CreatedFrom,
    Usage,
}

/// The text of each [`MetaKey`], in its order.
const NAMES: [&str; 12] = [
    "workflow_run_id",
    "node_execution_id",
    "tenant_id",
    "app_id",
    "app_name",
    "node_title",
    "node_type",
    "status",
    "ls_provider",
    "ls_model_name",
    "created_from",
    "usage",
];

/// How many keys a node mapper adds at most: the reference profile sets all
/// of [`MetaKey`] but `node_title`, the linked one all but `usage`. A
/// 5,000-node run keeps 5,000 of these lists: each slot is 56 bytes, and
/// room left unused is wasm memory all the same.
const ROOM: usize = NAMES.len() - 1;

/// Which [`MetaKey`] a key of the node's own metadata is: its length and
/// first letter name the one candidate (no two names share both: checked
/// below, when the module compiles), which is then compared.
fn key_of(k: &str) -> Option<usize> {
    let first = k.as_bytes().first();
    let i = NAMES
        .iter()
        .position(|n| n.len() == k.len() && n.as_bytes().first() == first)?;
    (NAMES[i] == k).then_some(i)
}

const _: () = {
    let mut i = 0;
    while i < NAMES.len() {
        let mut j = i + 1;
        while j < NAMES.len() {
            let (a, b) = (NAMES[i].as_bytes(), NAMES[j].as_bytes());
            assert!(
                a.len() != b.len() || a[0] != b[0],
                "two metadata key names share their length and first letter"
            );
            j += 1;
        }
        i += 1;
    }
};

/// A node's metadata being built.
pub(super) struct NodeMeta<'a> {
    list: Obj<'a>,
    /// Where each [`MetaKey`] is in `list` (its first place), or `usize::MAX`.
    at: [usize; NAMES.len()],
    /// How long the node's own metadata was.
    own: usize,
}

impl<'a> NodeMeta<'a> {
    /// Starts from a copy of the node's execution metadata, with room for
    /// the keys the mappers add.
    pub(super) fn new(own: &[(Cow<'a, str>, Json<'a>)]) -> Self {
        let mut list = Vec::with_capacity(own.len() + ROOM);
        list.extend(own.iter().cloned());
        let mut at = [usize::MAX; NAMES.len()];
        for (i, (k, _)) in list.iter().enumerate() {
            if let Some(slot) = key_of(k).and_then(|m| at.get_mut(m)) {
                if *slot == usize::MAX {
                    *slot = i;
                }
            }
        }
        NodeMeta {
            list,
            at,
            own: own.len(),
        }
    }

    /// Sets `key` to `value`: in its place when present, else appended.
    pub(super) fn set(&mut self, key: MetaKey, value: Json<'a>) {
        let k = key as usize;
        match self.list.get_mut(self.at[k]) {
            Some(entry) => entry.1 = value,
            None => {
                self.at[k] = self.list.len();
                self.list.push((Cow::Borrowed(NAMES[k]), value));
            }
        }
    }

    /// Whether `key` is set.
    pub(super) fn has(&self, key: MetaKey) -> bool {
        self.at[key as usize] != usize::MAX
    }

    /// The finished list. Debug builds (the tests) check that it stayed in
    /// the room made for it.
    pub(super) fn into_obj(self) -> Obj<'a> {
        debug_assert!(
            self.list.len() <= self.own + ROOM,
            "a node mapper adds more metadata keys than the room made for them"
        );
        self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::obj_set;

    /// Every order of settings gives the list `obj_set` gives, on lists that
    /// have none, some or all of the keys (twice, too).
    #[test]
    fn settings_match_obj_set() {
        let keys = [
            MetaKey::WorkflowRunId,
            MetaKey::NodeExecutionId,
            MetaKey::TenantId,
            MetaKey::AppId,
            MetaKey::AppName,
            MetaKey::NodeTitle,
            MetaKey::NodeType,
            MetaKey::Status,
            MetaKey::LsProvider,
            MetaKey::LsModelName,
            MetaKey::CreatedFrom,
            MetaKey::Usage,
        ];
        let owns: Vec<Obj<'static>> = vec![
            vec![],
            vec![(Cow::Borrowed("other"), Json::Int(1))],
            vec![
                (Cow::Borrowed("status"), Json::Int(1)),
                (Cow::Owned("x".into()), Json::Int(2)),
                (Cow::Owned("app_id".into()), Json::Int(3)),
                (Cow::Borrowed("status"), Json::Int(4)),
            ],
            NAMES
                .iter()
                .rev()
                .map(|n| (Cow::Borrowed(*n), Json::Null))
                .collect(),
        ];
        for own in &owns {
            for start in 0..keys.len() {
                let mut m = NodeMeta::new(own);
                let mut want = own.clone();
                for (n, &k) in keys.iter().cycle().skip(start).take(11).enumerate() {
                    let v = Json::Int(100 + n as i64);
                    assert_eq!(m.has(k), want.iter().any(|(x, _)| x == NAMES[k as usize]));
                    m.set(k, v.clone());
                    obj_set(&mut want, NAMES[k as usize], v);
                }
                let got = m.into_obj();
                let show = |o: &Obj| {
                    o.iter()
                        .map(|(k, v)| {
                            format!(
                                "{k}={}",
                                crate::write::text(|out| crate::write::json(out, v))
                            )
                        })
                        .collect::<Vec<_>>()
                };
                assert_eq!(show(&got), show(&want));
            }
        }
    }
}
