//! A radix tree of byte strings, each with a value: which keys start a path is found in one
//! walk along the path, in time proportional to its length, however many keys there are.

/// Keys and their values; every key not inserted has the default value.
#[derive(Debug, Clone)]
pub struct PrefixTree<T> {
    /// The root (the empty key) first.
    nodes: Vec<Node<T>>,
}

#[derive(Debug, Clone)]
struct Node<T> {
    /// The bytes from the parent to here: empty for the root only.
    label: Vec<u8>,
    /// The children, by the first byte of their label (each byte at most once), in order.
    children: Vec<usize>,
    value: T,
}

impl<T: Default> Default for PrefixTree<T> {
    fn default() -> Self {
        PrefixTree {
            nodes: vec![Node {
                label: Vec::new(),
                children: Vec::new(),
                value: T::default(),
            }],
        }
    }
}

impl<T: Default> PrefixTree<T> {
    /// The value of `key`, made (the default) if there is none.
    pub fn entry(&mut self, key: &[u8]) -> &mut T {
        let at = self.insert(key);
        &mut self.nodes[at].value
    }

    /// The node whose key is `key`, made if there is none.
    fn insert(&mut self, mut key: &[u8]) -> usize {
        let mut node = 0;
        while let Some(&byte) = key.first() {
            let Some((at, child)) = self.child(node, byte) else {
                let leaf = self.push(key.to_vec(), Vec::new());
                let at = self.nodes[node]
                    .children
                    .partition_point(|&c| self.nodes[c].label[0] < byte);
                self.nodes[node].children.insert(at, leaf);
                return leaf;
            };
            let label = &self.nodes[child].label;
            let common = label.iter().zip(key).take_while(|(a, b)| a == b).count();
            if common < label.len() {
                // Split the edge: a node for the common part, above the child.
                let head = label[..common].to_vec();
                self.nodes[child].label.drain(..common);
                let middle = self.push(head, vec![child]);
                self.nodes[node].children[at] = middle;
                node = middle;
            } else {
                node = child;
            }
            key = &key[common..];
        }
        node
    }

    fn push(&mut self, label: Vec<u8>, children: Vec<usize>) -> usize {
        self.nodes.push(Node {
            label,
            children,
            value: T::default(),
        });
        self.nodes.len() - 1
    }
}

impl<T> PrefixTree<T> {
    /// The value of `key`, if the tree has a node for it.
    pub fn get(&self, key: &[u8]) -> Option<&T> {
        let mut node = 0;
        let mut rest = key;
        while let Some(&byte) = rest.first() {
            let (_, child) = self.child(node, byte)?;
            rest = rest.strip_prefix(self.nodes[child].label.as_slice())?;
            node = child;
        }
        Some(&self.nodes[node].value)
    }

    /// Calls `each` with the value of every key that starts `path` and the key's length,
    /// shortest first (the empty key first of all).
    pub fn prefixes_of<'t>(&'t self, path: &[u8], mut each: impl FnMut(&'t T, usize)) {
        let mut node = 0;
        let mut at = 0;
        each(&self.nodes[0].value, 0);
        while let Some(&byte) = path.get(at) {
            let Some((_, child)) = self.child(node, byte) else {
                return;
            };
            let label = &self.nodes[child].label;
            if !path[at..].starts_with(label) {
                return;
            }
            at += label.len();
            node = child;
            each(&self.nodes[node].value, at);
        }
    }

    /// The child of `node` whose label starts with `byte`, and its place among the children.
    fn child(&self, node: usize, byte: u8) -> Option<(usize, usize)> {
        let children = &self.nodes[node].children;
        let at = children
            .binary_search_by_key(&byte, |&c| self.nodes[c].label[0])
            .ok()?;
        Some((at, children[at]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_start_a_path() {
        let mut tree: PrefixTree<Vec<&str>> = PrefixTree::default();
        for key in ["/a/", "/", "/abc", "/ab", "/a/b/c", "/x", "/a/", ""] {
            tree.entry(key.as_bytes()).push(key);
        }
        let starts = |path: &str| {
            let mut found = Vec::new();
            tree.prefixes_of(path.as_bytes(), |keys: &Vec<&str>, len| {
                for key in keys {
                    assert_eq!(key.len(), len);
                    found.push(*key);
                }
            });
            found
        };
        assert_eq!(starts("/a/b/c/d"), ["", "/", "/a/", "/a/", "/a/b/c"]);
        assert_eq!(starts("/abcd"), ["", "/", "/ab", "/abc"]);
        assert_eq!(starts("/a"), ["", "/"]);
        assert_eq!(starts("/y"), ["", "/"]);
        assert_eq!(starts(""), [""]);
        assert_eq!(tree.get(b"/ab"), Some(&vec!["/ab"]));
        assert_eq!(
            tree.get(b"/a"),
            Some(&vec![]),
            "a split node, never inserted"
        );
        assert_eq!(tree.get(b"/a/b"), None);
        assert_eq!(tree.get(b"/abcd"), None);
    }
}
