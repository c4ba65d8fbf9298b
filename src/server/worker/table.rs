//! A worker's connections by token.
//!
//! A token is the epoll data of a connection's socket and the name a waker keeps: the index
//! of the connection's place in the table (low 32 bits) and the place's generation (high 32
//! bits). A place freed by a close is given to the next connection with the next generation,
//! so an event, a deadline or a wake-up that comes for a closed connection after its place
//! was reused names a generation that is gone, and finds nothing: it is never taken for its
//! successor's.

/// Connections (or anything a worker keeps per connection) by token.
#[derive(Debug)]
pub struct Table<T> {
    /// By index; `None` for a free place.
    entries: Vec<Option<T>>,
    /// Each place's generation: the one its current (or last) occupant's token names.
    generations: Vec<u32>,
    /// Free places, reused before the table grows.
    free: Vec<u32>,
    /// Places filled.
    live: usize,
}

impl<T> Table<T> {
    pub fn new() -> Table<T> {
        Table {
            entries: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }

    /// Puts `entry` in a free place (or a new one), under a new generation; returns its
    /// token.
    pub fn insert(&mut self, entry: T) -> u64 {
        let index = match self.free.pop() {
            Some(index) => index as usize,
            None => {
                self.entries.push(None);
                self.generations.push(0);
                self.entries.len() - 1
            }
        };
        if let Some(generation) = self.generations.get_mut(index) {
            *generation = generation.wrapping_add(1);
        }
        if let Some(place) = self.entries.get_mut(index) {
            *place = Some(entry);
            self.live += 1;
        }
        self.token(index)
    }

    /// The entry `token` names, unless the token is stale (its place was freed, or reused by
    /// a later occupant).
    pub fn get_mut(&mut self, token: u64) -> Option<&mut T> {
        if !self.is_current(token) {
            return None;
        }
        self.entries.get_mut(index(token))?.as_mut()
    }

    /// Takes out the entry `token` names (unless the token is stale) and frees its place.
    pub fn remove(&mut self, token: u64) -> Option<T> {
        if !self.is_current(token) {
            return None;
        }
        let entry = self.entries.get_mut(index(token)).and_then(Option::take)?;
        self.live -= 1;
        self.free.push(index(token) as u32);
        Some(entry)
    }

    /// How many places are filled.
    pub fn len(&self) -> usize {
        self.live
    }

    /// The entries with their tokens, in the order of their places.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| Some((self.token(index), entry.as_ref()?)))
    }

    fn token(&self, index: usize) -> u64 {
        let generation = self.generations.get(index).copied().unwrap_or(0);
        (u64::from(generation) << 32) | index as u64
    }

    fn is_current(&self, token: u64) -> bool {
        self.generations.get(index(token)) == Some(&((token >> 32) as u32))
    }
}

/// The index of the place `token` names.
fn index(token: u64) -> usize {
    (token & u64::from(u32::MAX)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(names: &[&'static str]) -> (Table<&'static str>, Vec<u64>) {
        let mut table = Table::new();
        let tokens = names.iter().map(|name| table.insert(*name)).collect();
        (table, tokens)
    }

    #[test]
    fn a_token_names_its_entry() {
        let (mut table, tokens) = with(&["a", "b"]);
        assert_ne!(tokens[0], tokens[1]);
        assert_eq!(table.get_mut(tokens[0]), Some(&mut "a"));
        assert_eq!(table.get_mut(tokens[1]), Some(&mut "b"));
        assert_eq!(table.len(), 2);
        let listed: Vec<(u64, &str)> = table.iter().map(|(token, name)| (token, *name)).collect();
        assert_eq!(listed, vec![(tokens[0], "a"), (tokens[1], "b")]);
    }

    #[test]
    fn a_freed_place_is_reused_under_a_new_generation() {
        let (mut table, tokens) = with(&["a", "b"]);
        assert_eq!(table.remove(tokens[0]), Some("a"));
        let successor = table.insert("c");
        // The same place, another generation.
        assert_eq!(index(successor), index(tokens[0]));
        assert_ne!(successor, tokens[0]);
        assert_eq!(table.get_mut(successor), Some(&mut "c"));
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn a_stale_token_after_a_close_finds_nothing() {
        let (mut table, tokens) = with(&["a"]);
        assert_eq!(table.remove(tokens[0]), Some("a"));
        // An event, a deadline or a wake-up for the closed connection.
        assert_eq!(table.get_mut(tokens[0]), None);
        assert_eq!(table.remove(tokens[0]), None);
        // Nor once its place holds a later connection: that one stays.
        let successor = table.insert("b");
        assert_eq!(table.get_mut(tokens[0]), None);
        assert_eq!(table.remove(tokens[0]), None);
        assert_eq!(table.get_mut(successor), Some(&mut "b"));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn each_reuse_of_a_place_takes_the_next_generation() {
        let mut table: Table<u32> = Table::new();
        let first = table.insert(0);
        let mut last = first;
        for n in 1..5 {
            assert_eq!(table.remove(last), Some(n - 1));
            last = table.insert(n);
        }
        assert_eq!(index(last), index(first));
        assert_eq!(last >> 32, (first >> 32) + 4);
        assert_eq!(table.get_mut(first), None);
    }
}
