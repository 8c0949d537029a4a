//! The engine: one aho-corasick DFA over every rule keyword (ASCII case-insensitive) finds
//! candidate regions; only the rules whose keywords hit are verified with their regex in a window
//! around the hit; keyword-less rules share one multi-pattern regex pass.

use crate::allowlist::{
    bytes_syntax, compile_bytes_regex, is_placeholder_with, parse_bytes, Allowlist,
};
use crate::validate::{byte_stats, classes, shannon_entropy};
use crate::{Error, Fingerprint, HitCheck, Level, Result, Rule};
use aho_corasick::automaton::Automaton;
use aho_corasick::MatchKind;
use regex_automata::meta::Regex;
use regex_automata::util::captures::Captures;
use regex_automata::Input;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One finding. It never holds the secret: only where it is, what it is, and a keyed
/// fingerprint of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// Id of the rule that matched (`aws-access-key`).
    pub rule: Arc<str>,
    /// Level of the rule.
    pub level: Level,
    /// Byte offset of the secret's first byte in the scanned input.
    pub start: usize,
    /// Byte offset one past the secret's last byte.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column of `start`, counted in **bytes** from the start of the line.
    pub column: usize,
    /// Keyed blake3 fingerprint of the secret, 64 lowercase hex digits.
    pub fingerprint: Fingerprint,
}

impl Finding {
    /// The first six hex digits of the fingerprint (used in placeholders).
    pub fn short_fingerprint(&self) -> &str {
        self.fingerprint.short()
    }
}

/// Where the scanned bytes come from; rules with a `path` pattern (e.g. `*.tf`, `NuGet.config`,
/// `*.p12`) only run when a path is given and matches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Source<'a> {
    /// Path of the file, as the caller names it (relative or absolute).
    pub path: Option<&'a str>,
}

struct Compiled {
    rule: Rule,
    id: Arc<str>,
    re: Regex,
    secret_group: Option<usize>,
    kw_group: Option<usize>,
    host_group: Option<usize>,
    /// The secret is the whole match (one capture around everything but zero-width
    /// assertions): a plain `find`, without the capture engine, gives its span.
    whole: bool,
    /// The rule's capture spans without the capture engine, when every capture group is a
    /// top-level piece of the pattern (see [`Split`]); planned on the rule's first match, so
    /// building a scanner costs no more than its regexes.
    split: std::sync::OnceLock<Option<Split>>,
    /// Pieces shared by every rule of the scanner.
    pieces: Arc<Pieces>,
    allow: Vec<Regex>,
    path: Option<Regex>,
    /// Every match starts with one of the rule's keywords (its pattern's literal prefixes all
    /// begin with one) though the rule sets no anchor: it is verified anchored at each hit.
    starts_at_keyword: bool,
    /// For a generic rule, what comes before its secret (see [`Lead`]); built on first use.
    lead: std::sync::OnceLock<Option<Lead>>,
}

/// The part of a generic rule's pattern before its top-level secret group, as an all-matches
/// automaton, and the fewest bytes that group matches. Every match of the rule anchored at
/// some place has its secret start at an end of this part's match from there and run at least
/// `min` bytes: when each such end has a specific finding within `min` bytes of it, any
/// secret the rule could find there overlaps one and yields to it (see [`resolve`]), so the
/// hit needs no search. On keyword-dense text most generic hits are assignments of a value
/// a specific rule already found.
struct Lead {
    ends: Ends,
    min: usize,
}

impl Lead {
    fn of(pattern: &str, secret_group: usize) -> Option<Lead> {
        use regex_syntax::hir::HirKind;
        let hir = parse_bytes(pattern)?;
        let HirKind::Concat(items) = hir.kind() else {
            return None;
        };
        let at = items.iter().position(
            |h| matches!(h.kind(), HirKind::Capture(c) if c.index as usize == secret_group),
        )?;
        let HirKind::Capture(c) = items[at].kind() else {
            return None;
        };
        let min = c.sub.properties().minimum_len().filter(|&m| m > 0)?;
        let lead = regex_syntax::hir::Hir::concat(items[..at].to_vec());
        Some(Lead {
            ends: Ends::new(&lead)?,
            min,
        })
    }

    /// Whether every secret a match anchored at `from` within `..to` could have overlaps a
    /// span of `specific`.
    fn yields(&self, text: &[u8], from: usize, to: usize, specific: &Specific) -> bool {
        self.ends
            .none_viable(text, from, to, |e| !specific.overlaps(e, e + self.min))
    }
}

/// The keyword automaton: the transitions of an Aho-Corasick DFA over every rule keyword
/// (ASCII case-insensitive), copied into one flat table walked by [`Keywords::each`].
///
/// The crate's DFA keeps a column per byte range, so `a` and `A` are two columns; here bytes
/// whose transitions agree in every state share one class, and state ids are row offsets
/// (premultiplied by the row length), with the match states first: one table load and one
/// comparison per byte of text. The table is a fraction of the crate's (fewer columns), so
/// more of it stays in cache; this walk is most of the scan of clean code.
struct Keywords {
    /// Per byte, its class (the column in a row).
    class: [u8; 256],
    /// Row length: the number of classes.
    stride: usize,
    /// `trans[sid + class]`: the next state's row offset.
    trans: Box<[u32]>,
    start: u32,
    /// Row offsets below this are match states.
    match_limit: u32,
    /// The keywords that end in each match state, (index, length), one state after another:
    /// those of the match state with row offset `r` are `hits[first[r / stride]..first[r /
    /// stride + 1]]`.
    hits: Box<[(u32, u32)]>,
    first: Box<[u32]>,
    /// The longest keyword's length.
    longest: usize,
}

/// Where [`Keywords::walk`] stopped.
enum Step {
    /// At a match state, reached by the byte before this offset.
    Hit(usize, u32),
    /// At the end of the text, in this state.
    End(u32),
}

/// Blocks of this many bytes are walked as two halves at once (see [`Keywords::each`]).
const WALK_BLOCK: usize = 1 << 15;

impl Keywords {
    fn new(patterns: &[String]) -> Result<Keywords> {
        let fail = |e: &dyn std::fmt::Display| Error::Invalid(format!("keyword automaton: {e}"));
        let dfa = aho_corasick::dfa::DFA::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            // Start states stay plain states: there is no prefilter to call.
            .prefilter(false)
            .start_kind(aho_corasick::StartKind::Unanchored)
            .build(patterns)
            .map_err(|e| fail(&e))?;
        let no = aho_corasick::Anchored::No;
        let start = dfa.start_state(no).map_err(|e| fail(&e))?;
        // Every state reachable from the start, in the order found, and per state its 256
        // transitions by that order (the crate's ids are offsets, so they index a map).
        let mut states = vec![start];
        let mut seen: Vec<u32> = Vec::new();
        let number =
            |seen: &mut Vec<u32>, states: &mut Vec<_>, sid: aho_corasick::automaton::StateID| {
                let at = sid.as_usize();
                if seen.len() <= at {
                    seen.resize(at + 1, u32::MAX);
                }
                if seen[at] == u32::MAX {
                    seen[at] = states.len() as u32;
                    states.push(sid);
                }
                seen[at]
            };
        number(&mut seen, &mut states, start);
        let mut next: Vec<u32> = Vec::new();
        let mut i = 0;
        while i < states.len() {
            let sid = states[i];
            for b in 0..=255u8 {
                let n = number(&mut seen, &mut states, dfa.next_state(no, sid, b));
                next.push(n);
            }
            i += 1;
        }
        // Byte classes: bytes with the same transition in every state.
        let mut columns: HashMap<Vec<u32>, u8> = HashMap::new();
        let mut class = [0u8; 256];
        for b in 0..256 {
            let col: Vec<u32> = (0..states.len()).map(|s| next[s * 256 + b]).collect();
            let n = columns.len();
            if n == 256 && !columns.contains_key(&col) {
                return Err(fail(&"more than 256 byte classes"));
            }
            class[b] = *columns.entry(col).or_insert(n as u8);
        }
        let stride = columns.len();
        // Match states first, then the rest, each in the order found.
        let mut order: Vec<usize> = (0..states.len()).collect();
        order.sort_by_key(|&i| !dfa.is_match(states[i]));
        let mut row = vec![0u32; states.len()];
        for (new, &old) in order.iter().enumerate() {
            row[old] = u32::try_from(new * stride).map_err(|_| fail(&"too many states"))?;
        }
        let mut rep = [0usize; 256];
        for b in (0..256).rev() {
            rep[usize::from(class[b])] = b;
        }
        let mut trans = Vec::with_capacity(states.len() * stride);
        let (mut hits, mut first) = (Vec::new(), vec![0u32]);
        for &old in &order {
            trans.extend(
                rep[..stride]
                    .iter()
                    .map(|&b| row[next[old * 256 + b] as usize]),
            );
            let sid = states[old];
            if dfa.is_match(sid) {
                hits.extend((0..dfa.match_len(sid)).map(|k| {
                    let pid = dfa.match_pattern(sid, k);
                    (pid.as_u32(), dfa.pattern_len(pid) as u32)
                }));
                first.push(hits.len() as u32);
            }
        }
        Ok(Keywords {
            class,
            stride,
            trans: trans.into_boxed_slice(),
            start: row[0],
            match_limit: ((first.len() - 1) * stride) as u32,
            hits: hits.into_boxed_slice(),
            first: first.into_boxed_slice(),
            longest: patterns.iter().map(String::len).max().unwrap_or(0),
        })
    }

    /// Calls `f(keyword, start, end)` for every occurrence of every keyword in `text` (the
    /// hits of an overlapping search, in order of their ends).
    #[inline]
    fn each(&self, text: &[u8], f: impl FnMut(usize, usize, usize)) {
        self.each_in_blocks(text, WALK_BLOCK, f);
    }

    /// [`Keywords::each`], walking blocks of `block` bytes as two halves at once.
    ///
    /// One walk is a chain of dependent loads (the next state needs the last one), so it waits
    /// on memory at every byte; two independent walks overlap those waits. The second half's
    /// walk starts from the start state the longest keyword's length before the middle (a hit
    /// ending past the middle starts there or later) and reports only hits ending past it,
    /// which are held until the first half's are out; the next block goes on from its state.
    fn each_in_blocks(&self, text: &[u8], block: usize, mut f: impl FnMut(usize, usize, usize)) {
        let mut emit = |end: usize, sid: u32| {
            let m = sid as usize / self.stride;
            let (Some(&a), Some(&b)) = (self.first.get(m), self.first.get(m + 1)) else {
                return;
            };
            for &(k, len) in self.hits.get(a as usize..b as usize).unwrap_or(&[]) {
                f(k as usize, end - len as usize, end);
            }
        };
        let back = self.longest.saturating_sub(1);
        let mut later: Vec<(usize, u32)> = Vec::new();
        let mut sid = self.start;
        let mut from = 0;
        while from < text.len() {
            let to = from.saturating_add(block).min(text.len());
            let mid = from + (to - from) / 2;
            let Some(block_text) = text.get(..to) else {
                return;
            };
            if mid < from + back + 64 {
                // Too short to split: one walk.
                sid = self.walk_to_end(block_text, from, sid, &mut emit);
                from = to;
                continue;
            }
            let (mut a, mut sa) = (from, sid);
            let (mut b, mut sb) = (mid - back, self.start);
            later.clear();
            // Both halves at once while both last.
            while a < mid && b < to {
                let Some((k, na, nb)) = self.walk2(text, a, sa, b, sb, (mid - a).min(to - b))
                else {
                    return;
                };
                (a, sa, b, sb) = (a + k, na, b + k, nb);
                if sa < self.match_limit {
                    emit(a, sa);
                }
                if sb < self.match_limit && b > mid {
                    later.push((b, sb));
                }
            }
            // The rest of the first half, then of the second.
            let Some(first_half) = text.get(..mid) else {
                return;
            };
            self.walk_to_end(first_half, a, sa, &mut emit);
            sid = self.walk_to_end(block_text, b, sb, |end, next| {
                if end > mid {
                    later.push((end, next));
                }
            });
            for &(end, next) in &later {
                emit(end, next);
            }
            from = to;
        }
    }

    /// Walks `text` from `pos` in state `sid` to its end, calling `hit(end, state)` at each
    /// match state; the state at the end.
    fn walk_to_end(
        &self,
        text: &[u8],
        mut pos: usize,
        mut sid: u32,
        mut hit: impl FnMut(usize, u32),
    ) -> u32 {
        loop {
            match self.walk(text, pos, sid) {
                Step::Hit(end, next) => {
                    hit(end, next);
                    (pos, sid) = (end, next);
                }
                Step::End(last) => return last,
            }
        }
    }

    /// From state `sid` before `text[pos]`, the first match state reached and the offset past
    /// the byte that reached it, or the state at the end. Kept apart from the caller's work
    /// on hits so the loop keeps its few values in registers.
    #[inline(never)]
    fn walk(&self, text: &[u8], pos: usize, mut sid: u32) -> Step {
        let rest = text.get(pos..).unwrap_or(&[]);
        for (i, &b) in rest.iter().enumerate() {
            let next = sid as usize + usize::from(self.class[usize::from(b)]);
            // Always in the table (every entry is a row offset); a branch, not a
            // conditional move, keeps the check off the chain of loads.
            let Some(&n) = self.trans.get(next) else {
                return Step::End(self.start);
            };
            sid = n;
            if sid < self.match_limit {
                return Step::Hit(pos + i + 1, sid);
            }
        }
        Step::End(sid)
    }

    /// Two walks of `n` bytes each, from `a` in state `sa` and from `b` in state `sb`, side by
    /// side, until either reaches a match state: the bytes walked and both states.
    #[inline(never)]
    fn walk2(
        &self,
        text: &[u8],
        a: usize,
        mut sa: u32,
        b: usize,
        mut sb: u32,
        n: usize,
    ) -> Option<(usize, u32, u32)> {
        let (xs, ys) = (
            text.get(a..a.checked_add(n)?)?,
            text.get(b..b.checked_add(n)?)?,
        );
        for (k, (&x, &y)) in xs.iter().zip(ys).enumerate() {
            sa = *self
                .trans
                .get(sa as usize + usize::from(self.class[usize::from(x)]))?;
            sb = *self
                .trans
                .get(sb as usize + usize::from(self.class[usize::from(y)]))?;
            if sa.min(sb) < self.match_limit {
                return Some((k + 1, sa, sb));
            }
        }
        Some((n, sa, sb))
    }
}

/// What the candidate loop needs of a rule at a hit of one of its keywords, in one small
/// record (a rule's [`Compiled`] spans many cache lines).
#[derive(Clone, Copy)]
struct OnHit {
    rule: u32,
    check: Option<HitCheck>,
    verify: Verify,
    /// How far past the keyword a match may reach.
    fwd: usize,
}

/// How a rule is verified at a hit.
#[derive(Clone, Copy)]
enum Verify {
    /// Anchored at the hit (see [`Compiled::starts_at_keyword`]).
    AtKeyword,
    /// Anchored `back` bytes before the hit; generic rules are verified last.
    Anchored { back: usize, generic: bool },
    /// Searched in a window from `back` bytes before the hit, merged with overlapping ones.
    Window { back: usize },
}

impl OnHit {
    fn of(rule: u32, c: &Compiled) -> OnHit {
        let (back, fwd) = c.rule.window;
        let verify = if c.starts_at_keyword {
            Verify::AtKeyword
        } else if let Some(k) = c.rule.anchor {
            Verify::Anchored {
                back: k,
                generic: c.rule.generic,
            }
        } else {
            Verify::Window { back }
        };
        OnHit {
            rule,
            check: c.rule.hit_check,
            verify,
            fwd,
        }
    }
}

/// Most capture groups a [`Split`] tracks.
const SPLIT_GROUPS: usize = 8;

/// A rule pattern cut at its top-level capture groups into consecutive pieces, each matched on
/// its own (a byte-class run by a byte loop, anything else by the DFA alone), anchored where
/// the previous one ended. Taking each piece's own leftmost-first match is the path a
/// backtracking capture engine tries first; when that chain completes (and, for a match found
/// by an unanchored search, ends where that match ends) it is the path the capture engine
/// would return, so the groups' spans are the same. Otherwise (a piece fails, or the pieces end
/// elsewhere) the caller falls back to the capture engine. Keyword-dense text spends most of
/// its time here: a few DFA steps instead of a bounded backtracker per finding.
struct Split {
    /// The pieces in order.
    parts: Vec<Arc<Piece>>,
    /// Per piece, the capture group it belongs to, and whether it is the group's first and
    /// last piece (groups are runs of consecutive pieces and never overlap).
    marks: Vec<Option<(usize, bool, bool)>>,
    /// Per piece, whether it ends in one place wherever it starts (fixed length, or a run
    /// whose shorter ends no path on can continue from): such pieces need no check when a
    /// chain fails after them (see [`Split::final_failure`]).
    tight: Vec<bool>,
    /// Per piece, what can follow its end on a path to a match (see [`Planner::follow`]).
    follow: Vec<(ByteSet, bool)>,
}

/// One piece of a [`Split`]: most secrets are a greedy run of one byte class
/// (`[A-Za-z0-9_-]{32,}`), whose anchored leftmost-first match is simply the longest run (capped
/// at the maximum, at least the minimum); a sequence of single-byte classes (a literal, a
/// case-insensitive literal) matches in exactly one way; an ASCII or line assertion is checked on
/// the bytes around it; everything else goes through the DFA.
enum Piece {
    Run {
        class: ByteSet,
        /// The class as one flag per byte (a run tests every byte of a secret: one load each).
        table: Box<[bool; 256]>,
        min: usize,
        max: usize,
    },
    /// A sequence of single-byte classes or an assertion: one way to match.
    One(Branch),
    /// Alternatives that each match in one way, tried in order: the first that matches is the
    /// leftmost-first match (`(?:^|[^A-Za-z])`, `(?:[^\w]|$)`, `api[_.\-]?key|secret|...`).
    Alt(Alt),
    /// Anything else: the DFA, and its all-matches automaton for [`Split::final_failure`].
    Dfa(Regex, Option<Box<Ends>>),
}

/// Every end of a pattern's matches from one place, through a DFA built with
/// [`MatchKind::All`](regex_automata::MatchKind::All) (its states keep every path, not just the
/// preferred one): a fully built dense DFA when it stays small (no cache, one table load per
/// byte, the start state computed once when it does not depend on the byte before), else a
/// lazy DFA whose caches come from a pool, as the regex engines' do.
enum Ends {
    Dense {
        dfa: regex_automata::dfa::dense::DFA<Vec<u32>>,
        start: Option<regex_automata::util::primitives::StateID>,
    },
    Lazy {
        dfa: regex_automata::hybrid::dfa::DFA,
        pool: regex_automata::util::pool::Pool<regex_automata::hybrid::dfa::Cache, CacheFn>,
    },
}

type CacheFn = Box<
    dyn Fn() -> regex_automata::hybrid::dfa::Cache
        + Send
        + Sync
        + std::panic::UnwindSafe
        + std::panic::RefUnwindSafe,
>;

/// The largest dense DFA [`Ends`] builds (bytes of transition table); past it, a lazy one.
const DENSE_ENDS_LIMIT: usize = 256 << 10;

impl Ends {
    fn new(h: &regex_syntax::hir::Hir) -> Option<Ends> {
        Ends::build(h, DENSE_ENDS_LIMIT)
    }

    /// [`Ends::new`] with a dense DFA of at most `dense_limit` bytes (0: always lazy).
    fn build(h: &regex_syntax::hir::Hir, dense_limit: usize) -> Option<Ends> {
        use regex_automata::dfa::{dense, Automaton, StartKind};
        use regex_automata::hybrid::dfa::{Cache, DFA};
        use regex_automata::nfa::thompson;
        let nfa = thompson::Compiler::new()
            .configure(
                thompson::Config::new()
                    .utf8(false)
                    .which_captures(thompson::WhichCaptures::None),
            )
            .build_from_hir(h)
            .ok()?;
        let dense = (dense_limit > 0).then(|| {
            dense::Builder::new()
                .configure(
                    dense::Config::new()
                        .match_kind(regex_automata::MatchKind::All)
                        .start_kind(StartKind::Anchored)
                        .minimize(false)
                        .accelerate(false)
                        .dfa_size_limit(Some(dense_limit))
                        .determinize_size_limit(Some(4 * dense_limit)),
                )
                .build_from_nfa(&nfa)
                .ok()
        });
        if let Some(Some(dfa)) = dense {
            let start = dfa.universal_start_state(regex_automata::Anchored::Yes);
            return Some(Ends::Dense { dfa, start });
        }
        let dfa = DFA::builder()
            .configure(DFA::config().match_kind(regex_automata::MatchKind::All))
            .build_from_nfa(nfa)
            .ok()?;
        let for_pool = dfa.clone();
        let create: CacheFn = Box::new(move || Cache::new(&for_pool));
        Some(Ends::Lazy {
            dfa,
            pool: regex_automata::util::pool::Pool::new(create),
        })
    }

    /// Whether no match anchored at `pos` within `..limit` ends where `viable` says a path
    /// could go on (`false` when the automaton cannot tell).
    fn none_viable(
        &self,
        text: &[u8],
        pos: usize,
        limit: usize,
        viable: impl Fn(usize) -> bool,
    ) -> bool {
        match self {
            Ends::Dense { dfa, start } => {
                Ends::none_viable_dense(dfa, *start, text, pos, limit, viable)
            }
            Ends::Lazy { dfa, pool } => Ends::none_viable_lazy(dfa, pool, text, pos, limit, viable),
        }
    }

    fn none_viable_dense(
        dfa: &regex_automata::dfa::dense::DFA<Vec<u32>>,
        start: Option<regex_automata::util::primitives::StateID>,
        text: &[u8],
        pos: usize,
        limit: usize,
        viable: impl Fn(usize) -> bool,
    ) -> bool {
        use regex_automata::dfa::Automaton;
        let sid = match start {
            Some(sid) => Ok(sid),
            None => dfa.start_state_forward(
                &Input::new(text)
                    .range(pos..limit)
                    .anchored(regex_automata::Anchored::Yes),
            ),
        };
        let Ok(mut sid) = sid else {
            return false;
        };
        // A match state seen after reading the byte at `at` is a match ending at `at`.
        for at in pos..limit {
            let Some(&b) = text.get(at) else {
                return false;
            };
            sid = dfa.next_state(sid, b);
            if dfa.is_special_state(sid) {
                if dfa.is_match_state(sid) && viable(at) {
                    return false;
                }
                if dfa.is_dead_state(sid) {
                    return true;
                }
                if dfa.is_quit_state(sid) {
                    return false;
                }
            }
        }
        // Matches ending at `limit` show after the byte there (or the end of the text).
        let last = match text.get(limit) {
            Some(&b) if limit < text.len() => dfa.next_state(sid, b),
            _ => dfa.next_eoi_state(sid),
        };
        !dfa.is_match_state(last) || !viable(limit)
    }

    fn none_viable_lazy(
        dfa: &regex_automata::hybrid::dfa::DFA,
        pool: &regex_automata::util::pool::Pool<regex_automata::hybrid::dfa::Cache, CacheFn>,
        text: &[u8],
        pos: usize,
        limit: usize,
        viable: impl Fn(usize) -> bool,
    ) -> bool {
        let input = Input::new(text)
            .range(pos..limit)
            .anchored(regex_automata::Anchored::Yes);
        let mut cache = pool.get();
        let Ok(mut sid) = dfa.start_state_forward(&mut cache, &input) else {
            return false;
        };
        // A match state seen after reading the byte at `at` is a match ending at `at`.
        for at in pos..limit {
            let Some(&b) = text.get(at) else {
                return false;
            };
            let Ok(next) = dfa.next_state(&mut cache, sid, b) else {
                return false;
            };
            sid = next;
            if sid.is_tagged() {
                if sid.is_match() && viable(at) {
                    return false;
                }
                if sid.is_dead() {
                    return true;
                }
                if sid.is_quit() || sid.is_unknown() {
                    return false;
                }
            }
        }
        // Matches ending at `limit` show after the byte there (or the end of the text).
        let last = match text.get(limit) {
            Some(&b) if limit < text.len() => dfa.next_state(&mut cache, sid, b),
            _ => dfa.next_eoi_state(&mut cache, sid),
        };
        match last {
            Ok(sid) => !sid.is_match() || !viable(limit),
            Err(_) => false,
        }
    }
}

/// The ways of an alternation piece, with where to start trying them: per next byte (and for
/// the end of the input), the first way that can match there, as a way that begins with a
/// byte outside its first class fails.
struct Alt {
    ways: Box<[Branch]>,
    start: Box<[u8; 257]>,
}

impl Alt {
    /// `None` with more ways than a start index holds.
    fn new(ways: Vec<Branch>) -> Option<Alt> {
        let n = u8::try_from(ways.len()).ok()?;
        let mut start = Box::new([n; 257]);
        for (i, w) in (0..n).zip(ways.iter()).rev() {
            match w {
                Branch::Seq(seq) => match seq.first() {
                    Some(first) => {
                        for b in 0..=255u8 {
                            if first.has(b) {
                                start[usize::from(b)] = i;
                            }
                        }
                    }
                    None => start.fill(i),
                },
                Branch::Look(_) => start.fill(i),
            }
        }
        Some(Alt {
            ways: ways.into_boxed_slice(),
            start,
        })
    }

    /// The ways that can match at `pos`, from the first one the next byte can begin.
    #[inline]
    fn from(&self, text: &[u8], pos: usize, limit: usize) -> &[Branch] {
        let next = if pos < limit {
            text.get(pos).map_or(256, |&b| usize::from(b))
        } else {
            256
        };
        self.ways
            .get(usize::from(self.start[next])..)
            .unwrap_or(&[])
    }

    /// The ends of every way that matches at `pos`.
    fn ends<'a>(
        &'a self,
        text: &'a [u8],
        pos: usize,
        limit: usize,
    ) -> impl Iterator<Item = usize> + 'a {
        self.from(text, pos, limit)
            .iter()
            .filter_map(move |w| w.end(text, pos, limit))
    }

    #[inline]
    fn end(&self, text: &[u8], pos: usize, limit: usize) -> Option<usize> {
        self.from(text, pos, limit)
            .iter()
            .find_map(|b| b.end(text, pos, limit))
    }
}

/// Something that matches in at most one way: a sequence of single-byte classes (a literal, a
/// case-insensitive literal) or an ASCII word or line assertion.
#[derive(Clone)]
enum Branch {
    Seq(Box<[ByteSet]>),
    Look(regex_syntax::hir::Look),
}

/// At most this many ways in [`Branch::ways`]: more is cheaper in the DFA.
const MAX_WAYS: usize = 48;

impl Branch {
    /// Every way `h` can match, in the order a backtracking engine tries them, when each is a
    /// sequence of single-byte classes or one assertion: literals, classes, alternations,
    /// optional parts and short greedy counted repetitions of those (`api[_.\-]?key`,
    /// `passw(?:or)?d`, `(?:\\?["'])?`, `(?:[_.\-]?\d{1,4})?`). The first way that matches
    /// is then the leftmost-first match. `None` for anything else (lazy repetitions, whose
    /// shortest way is rarely the one the pattern needs, captures, unbounded repetitions) or
    /// more than [`MAX_WAYS`] ways.
    fn ways(h: &regex_syntax::hir::Hir) -> Option<Vec<Branch>> {
        use regex_syntax::hir::{Hir, HirKind};
        // Each way followed by each way of the rest, earlier choices first.
        fn then(a: Vec<Branch>, b: &[Branch]) -> Option<Vec<Branch>> {
            if a.len().saturating_mul(b.len()) > MAX_WAYS {
                return None;
            }
            let mut out = Vec::with_capacity(a.len() * b.len());
            for x in &a {
                for y in b {
                    out.push(match (x, y) {
                        (Branch::Seq(p), Branch::Seq(q)) => {
                            Branch::Seq(p.iter().chain(q.iter()).copied().collect())
                        }
                        (Branch::Seq(p), Branch::Look(l)) | (Branch::Look(l), Branch::Seq(p))
                            if p.is_empty() =>
                        {
                            Branch::Look(*l)
                        }
                        _ => return None,
                    });
                }
            }
            Some(out)
        }
        fn empty() -> Vec<Branch> {
            vec![Branch::Seq(Box::new([]))]
        }
        // `sub{min,max}`, greedy: `sub` then `sub{min-1,max-1}`; past the minimum, one more
        // `sub` before stopping.
        fn repeat(sub: &[Branch], min: u32, max: u32) -> Option<Vec<Branch>> {
            if max == 0 {
                return Some(empty());
            }
            let more = then(sub.to_vec(), &repeat(sub, min.saturating_sub(1), max - 1)?)?;
            if min > 0 {
                return Some(more);
            }
            let mut out = more;
            out.extend(empty());
            (out.len() <= MAX_WAYS).then_some(out)
        }
        let ways = match h.kind() {
            HirKind::Empty => empty(),
            HirKind::Look(look) if ascii_look(*look) => vec![Branch::Look(*look)],
            HirKind::Literal(_) | HirKind::Class(_) => {
                vec![Branch::Seq(Piece::sequence(h)?.into_boxed_slice())]
            }
            HirKind::Alternation(subs) => {
                let mut out = Vec::new();
                for sub in subs {
                    out.extend(Branch::ways(sub)?);
                    if out.len() > MAX_WAYS {
                        return None;
                    }
                }
                out
            }
            HirKind::Concat(subs) => subs
                .iter()
                .try_fold(empty(), |acc, sub: &Hir| then(acc, &Branch::ways(sub)?))?,
            HirKind::Repetition(r) if r.greedy && r.max.is_some_and(|m| m <= 8) => {
                repeat(&Branch::ways(&r.sub)?, r.min, r.max?)?
            }
            _ => return None,
        };
        Some(ways)
    }

    /// The end of this branch's match at `pos`, within `..limit`.
    #[inline]
    fn end(&self, text: &[u8], pos: usize, limit: usize) -> Option<usize> {
        match self {
            Branch::Seq(seq) => {
                let avail = text.get(pos..limit)?.get(..seq.len())?;
                avail
                    .iter()
                    .zip(seq.iter())
                    .all(|(&b, set)| set.has(b))
                    .then_some(pos + seq.len())
            }
            Branch::Look(look) => (pos <= limit && look_holds(*look, text, pos)).then_some(pos),
        }
    }
}

/// A set of bytes, one bit each (a cache line, where a `[bool; 256]` takes four).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ByteSet([u64; 4]);

impl ByteSet {
    /// Every byte.
    const ALL: ByteSet = ByteSet([u64::MAX; 4]);

    /// One flag per byte.
    fn table(&self) -> Box<[bool; 256]> {
        let mut t = Box::new([false; 256]);
        for (b, f) in t.iter_mut().enumerate() {
            *f = self.0[b >> 6] >> (b & 63) & 1 != 0;
        }
        t
    }

    /// The set a class matches, or `None` when it is a Unicode class reaching past ASCII (its
    /// members are multi-byte sequences, not bytes).
    fn of(class: &regex_syntax::hir::Class) -> Option<ByteSet> {
        use regex_syntax::hir::Class;
        let mut set = ByteSet::default();
        match class {
            Class::Bytes(c) => {
                for r in c.iter() {
                    for b in r.start()..=r.end() {
                        set.insert(b);
                    }
                }
            }
            Class::Unicode(c) => {
                for r in c.iter() {
                    let (lo, hi) = (u32::from(r.start()), u32::from(r.end()));
                    if hi > 0x7f {
                        return None;
                    }
                    for b in lo..=hi {
                        set.insert(b as u8);
                    }
                }
            }
        }
        Some(set)
    }

    /// The set of one byte.
    pub(crate) fn single(b: u8) -> ByteSet {
        let mut set = ByteSet::default();
        set.insert(b);
        set
    }

    pub(crate) fn insert(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
    }

    fn union(&self, o: &ByteSet) -> ByteSet {
        ByteSet(std::array::from_fn(|i| self.0[i] | o.0[i]))
    }

    fn intersect(&self, o: &ByteSet) -> ByteSet {
        ByteSet(std::array::from_fn(|i| self.0[i] & o.0[i]))
    }

    fn disjoint(&self, o: &ByteSet) -> bool {
        self.0.iter().zip(o.0.iter()).all(|(a, b)| a & b == 0)
    }

    #[inline]
    pub(crate) fn has(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] >> (b & 63) & 1 != 0
    }
}

impl Piece {
    fn new(h: &regex_syntax::hir::Hir) -> Option<Piece> {
        Piece::run_of(h)
            .map(|(class, min, max)| Piece::Run {
                class,
                table: class.table(),
                min,
                max,
            })
            .or_else(|| {
                let mut ways = Branch::ways(h)?;
                match ways.len() {
                    1 => Some(Piece::One(ways.remove(0))),
                    _ => Alt::new(ways).map(Piece::Alt),
                }
            })
            .or_else(|| {
                // A piece's empty match may fall inside a multi-byte character (the whole
                // match around it does not), so the engine must not drop such matches.
                let re = Regex::builder()
                    .configure(Regex::config().utf8_empty(false))
                    .build_from_hir(h)
                    .ok()?;
                Some(Piece::Dfa(re, Ends::new(h).map(Box::new)))
            })
    }

    /// The class and bounds of `h` when it is one byte class or a greedy repetition of one.
    fn run_of(h: &regex_syntax::hir::Hir) -> Option<(ByteSet, usize, usize)> {
        use regex_syntax::hir::HirKind;
        match h.kind() {
            HirKind::Class(c) => ByteSet::of(c).map(|class| (class, 1, 1)),
            HirKind::Repetition(r) if r.greedy => match r.sub.kind() {
                HirKind::Class(c) => {
                    let max = r.max.map_or(usize::MAX, |m| m as usize);
                    ByteSet::of(c).map(|class| (class, r.min as usize, max))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The byte classes of `h` when it is a sequence of single-byte classes and literals.
    fn sequence(h: &regex_syntax::hir::Hir) -> Option<Vec<ByteSet>> {
        use regex_syntax::hir::HirKind;
        let mut out = Vec::new();
        let mut add = |h: &regex_syntax::hir::Hir| -> Option<()> {
            match h.kind() {
                HirKind::Literal(l) => {
                    out.extend(l.0.iter().map(|&b| ByteSet::single(b)));
                    Some(())
                }
                HirKind::Class(c) => {
                    out.push(ByteSet::of(c)?);
                    Some(())
                }
                _ => None,
            }
        };
        match h.kind() {
            HirKind::Concat(subs) => {
                for sub in subs {
                    add(sub)?;
                }
            }
            _ => add(h)?,
        }
        (!out.is_empty()).then_some(out)
    }

    /// The end of this piece's leftmost-first match anchored at `pos`, within `..limit`.
    #[inline]
    fn end(&self, text: &[u8], pos: usize, limit: usize) -> Option<usize> {
        match self {
            Piece::Run {
                table, min, max, ..
            } => {
                let avail = text.get(pos..limit.min(pos.saturating_add(*max)))?;
                let n = avail
                    .iter()
                    .position(|&b| !table[usize::from(b)])
                    .unwrap_or(avail.len());
                (n >= *min).then_some(pos + n)
            }
            Piece::One(b) => b.end(text, pos, limit),
            Piece::Alt(alt) => alt.end(text, pos, limit),
            Piece::Dfa(re, _) => {
                let input = Input::new(text)
                    .range(pos..limit)
                    .anchored(regex_automata::Anchored::Yes);
                re.search(&input).map(|m| m.end())
            }
        }
    }
}

/// The pieces built so far, by their pattern: rules written from one template (the context
/// rules' identifier, separator and end) share one compiled piece, so the pieces a scan keeps
/// touching stay few and in cache.
#[derive(Default)]
struct Pieces(std::sync::Mutex<HashMap<String, Arc<Piece>>>);

impl Pieces {
    fn get(&self, h: &regex_syntax::hir::Hir) -> Option<Arc<Piece>> {
        let key = h.to_string();
        // A poisoned lock only means another thread panicked while inserting; the map is
        // still a valid cache.
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = map.get(&key) {
            return Some(p.clone());
        }
        let p = Arc::new(Piece::new(h)?);
        map.insert(key, p.clone());
        Some(p)
    }
}

/// The spans of a rule match: the whole match, the secret, and the keyword and host groups.
struct Located {
    whole: (usize, usize),
    secret: (usize, usize),
    kw: Option<(usize, usize)>,
    host: Option<(usize, usize)>,
}

impl Located {
    /// A match that is the secret itself (no keyword or host group).
    fn whole(start: usize, end: usize) -> Located {
        Located {
            whole: (start, end),
            secret: (start, end),
            kw: None,
            host: None,
        }
    }
}

type Groups = [Option<(usize, usize)>; SPLIT_GROUPS];

impl Split {
    /// The plan for `pattern`, or `None` when a capture group is nested inside another piece
    /// (optional, repeated, in an alternation) or there are too many groups.
    #[cfg(test)]
    fn plan(pattern: &str) -> Option<Split> {
        Split::plan_with(pattern, &Pieces::default())
    }

    /// [`Split::plan`], taking pieces already built from `pieces`.
    fn plan_with(pattern: &str, pieces: &Pieces) -> Option<Split> {
        use regex_syntax::hir::{Hir, HirKind};
        let hir = parse_bytes(pattern)?;
        let explicit = hir.properties().explicit_captures_len();
        if explicit == 0 || explicit >= SPLIT_GROUPS {
            return None;
        }
        let top: Vec<Hir> = match hir.kind() {
            HirKind::Concat(subs) => subs.clone(),
            _ => vec![hir.clone()],
        };
        let mut plan = Planner::default();
        let mut groups = Vec::new();
        for item in top {
            match item.kind() {
                HirKind::Capture(c) if (c.index as usize) < SPLIT_GROUPS => {
                    // Groups nested inside this group are not tracked.
                    if c.sub.properties().explicit_captures_len() != 0 {
                        return None;
                    }
                    plan.flush(pieces)?;
                    let first = plan.parts.len();
                    plan.push_all(&c.sub);
                    plan.flush(pieces)?;
                    if plan.parts.len() == first {
                        // An empty group: its span is where it stands, but with no piece of
                        // its own the chain cannot place it.
                        return None;
                    }
                    groups.push((c.index as usize, first, plan.parts.len()));
                }
                _ => {
                    if item.properties().explicit_captures_len() != 0 {
                        return None;
                    }
                    plan.push_all(&item);
                }
            }
        }
        plan.flush(pieces)?;
        let follow = plan.follow();
        let tight = plan.tight(&follow);
        let mut marks = vec![None; plan.parts.len()];
        for &(g, first, past) in &groups {
            for (i, m) in marks.iter_mut().enumerate().take(past).skip(first) {
                *m = Some((g, i == first, i + 1 == past));
            }
        }
        (groups.len() == explicit).then_some(Split {
            parts: plan.parts,
            marks,
            tight,
            follow,
        })
    }

    /// The groups of the match `whole`, found within `..limit` (the end of the span the
    /// whole match was searched in), or `None` when the capture engine must decide.
    #[inline]
    fn groups(&self, text: &[u8], whole: (usize, usize), limit: usize) -> Option<Groups> {
        let (end, groups) = self.chain(text, whole.0, limit).ok()?;
        (end == whole.1).then_some(groups)
    }

    /// Each piece's own leftmost-first match, anchored where the previous one ended, from
    /// `start` within `..limit`: where the chain ends and the groups, or the index of the
    /// first piece that does not match. A chain that completes is the first path a
    /// backtracking engine finds, so for an anchored search it is the match.
    #[inline]
    fn chain(&self, text: &[u8], start: usize, limit: usize) -> Result<(usize, Groups), usize> {
        self.chain_at(text, start, limit, &mut [])
    }

    /// [`Split::chain`], recording where each piece started in `starts` (as far as it goes).
    #[inline]
    fn chain_at(
        &self,
        text: &[u8],
        start: usize,
        limit: usize,
        starts: &mut [usize],
    ) -> Result<(usize, Groups), usize> {
        let mut groups = [None; SPLIT_GROUPS];
        let (mut pos, mut open) = (start, start);
        for (i, (piece, mark)) in self.parts.iter().zip(&self.marks).enumerate() {
            let from = pos;
            if let Some(s) = starts.get_mut(i) {
                *s = from;
            }
            pos = piece.end(text, pos, limit).ok_or(i)?;
            if let Some((g, first, last)) = *mark {
                if first {
                    open = from;
                }
                if let (true, Some(slot)) = (last, groups.get_mut(g)) {
                    *slot = Some((open, pos));
                }
            }
        }
        Ok((pos, groups))
    }

    /// Whether the chain's failure at piece `k` from `start` is final: no piece before it can
    /// end anywhere else from where the chain started it on a path that goes on to a match
    /// (an other end must be followed by a byte some path can take next, see
    /// [`Planner::follow`]): tight pieces never can; for a run, the bytes at its shorter ends
    /// are checked; for an alternation, each way's end; for a DFA piece, every end its
    /// all-matches automaton finds. So the only path reaches piece `k` where the chain tried
    /// it, and it has no match there.
    fn final_failure(&self, text: &[u8], limit: usize, k: usize, starts: &[usize]) -> bool {
        for (i, piece) in self.parts.iter().enumerate().take(k) {
            if self.tight.get(i).copied().unwrap_or(false) {
                continue;
            }
            // Where the piece started and ended, as the chain recorded it.
            let (Some(&pos), Some(&end), Some(&(next, at_end))) =
                (starts.get(i), starts.get(i + 1), self.follow.get(i))
            else {
                return false;
            };
            // Whether a path could go on from an end other than the chain's.
            let viable = |e: usize| {
                e != end
                    && match text.get(e) {
                        Some(&b) => next.has(b),
                        None => at_end,
                    }
            };
            let other = match &**piece {
                Piece::Run { min, .. } => (pos + min..end).any(viable),
                Piece::One(_) => false,
                Piece::Alt(alt) => alt.ends(text, pos, limit).any(viable),
                Piece::Dfa(_, ends) => ends
                    .as_ref()
                    .is_none_or(|e| !e.none_viable(text, pos, limit, viable)),
            };
            if other {
                return false;
            }
        }
        true
    }
}

/// Cuts a pattern's top-level sequence into pieces: a run of one byte class, a sequence of
/// single-byte classes and literals, an assertion, and, merged, whatever lies between them.
#[derive(Default)]
struct Planner {
    parts: Vec<Arc<Piece>>,
    /// What each piece may start with and whether it ends in one place.
    shapes: Vec<Shape>,
    /// Items not yet made into pieces.
    pending: Vec<regex_syntax::hir::Hir>,
}

/// How [`Planner`] groups an item.
#[derive(PartialEq, Eq, Clone, Copy)]
enum ItemKind {
    Seq,
    Alone,
    Dfa,
}

impl Planner {
    fn kind(h: &regex_syntax::hir::Hir) -> ItemKind {
        use regex_syntax::hir::HirKind;
        match h.kind() {
            HirKind::Literal(_) => ItemKind::Seq,
            HirKind::Class(c) if ByteSet::of(c).is_some() => ItemKind::Seq,
            _ if Piece::run_of(h).is_some() => ItemKind::Alone,
            HirKind::Look(l) if ascii_look(*l) => ItemKind::Alone,
            _ if Branch::ways(h).is_some() => ItemKind::Alone,
            _ => ItemKind::Dfa,
        }
    }

    /// Adds the items of `h` (its members when it is a sequence).
    fn push_all(&mut self, h: &regex_syntax::hir::Hir) {
        use regex_syntax::hir::HirKind;
        match h.kind() {
            HirKind::Concat(subs) => self.pending.extend(subs.iter().cloned()),
            _ => self.pending.push(h.clone()),
        }
    }

    /// Turns the pending items into pieces: the items before the first one that needs the DFA
    /// and after the last one each stand alone (consecutive literals and classes as one
    /// sequence); everything from the first to the last DFA item is one DFA piece, so a
    /// separator full of optional parts costs one search, not one per part.
    fn flush(&mut self, pieces: &Pieces) -> Option<()> {
        let items = std::mem::take(&mut self.pending);
        let kinds: Vec<ItemKind> = items.iter().map(Planner::kind).collect();
        let first = kinds.iter().position(|&k| k == ItemKind::Dfa);
        let last = kinds.iter().rposition(|&k| k == ItemKind::Dfa);
        // Each group becomes one piece; the flag says whether it is a sequence that may grow.
        let mut groups: Vec<(Vec<regex_syntax::hir::Hir>, bool)> = Vec::new();
        for (i, (h, kind)) in items.into_iter().zip(kinds).enumerate() {
            let in_middle = first.zip(last).is_some_and(|(f, l)| (f..=l).contains(&i));
            match groups.last_mut() {
                Some((g, _)) if in_middle && first != Some(i) => g.push(h),
                Some((g, true)) if !in_middle && kind == ItemKind::Seq => g.push(h),
                _ => groups.push((vec![h], !in_middle && kind == ItemKind::Seq)),
            }
        }
        for (g, _) in groups {
            let h = if g.len() == 1 {
                g.into_iter().next()?
            } else {
                regex_syntax::hir::Hir::concat(g)
            };
            let piece = pieces.get(&h)?;
            self.shapes.push(Shape::of(&h, &piece));
            self.parts.push(piece);
        }
        Some(())
    }

    /// Per piece, the bytes that can come right after its end on a path that goes on to a
    /// match (a superset: a later piece's first bytes, through pieces that can match empty
    /// before such a byte), and whether such a path can be at the end of the text (every
    /// later piece matching empty there).
    fn follow(&self) -> Vec<(ByteSet, bool)> {
        let n = self.shapes.len();
        let mut out = vec![(ByteSet::ALL, true); n];
        let (mut next, mut at_end) = (ByteSet::ALL, true);
        for i in (0..n).rev() {
            out[i] = (next, at_end);
            let s = &self.shapes[i];
            next = s.first.union(&s.empty_next.intersect(&next));
            at_end = at_end && s.nullable;
        }
        out
    }

    /// Per piece, whether it ends in one place wherever it starts (see [`Split::tight`]): a
    /// fixed length, or a run whose shorter ends leave a byte of its class next, which no path
    /// on can take (see [`Planner::follow`]).
    fn tight(&self, follow: &[(ByteSet, bool)]) -> Vec<bool> {
        self.shapes
            .iter()
            .zip(follow)
            .map(|(shape, (next, _))| shape.fixed || shape.run.is_some_and(|c| c.disjoint(next)))
            .collect()
    }
}

/// What a piece may match, as far as [`Planner::tight`] needs it.
struct Shape {
    /// Every byte a match can start with (a superset).
    first: ByteSet,
    /// Whether it can match nothing.
    nullable: bool,
    /// The bytes an empty match of it can be followed by (a superset; an empty match at the
    /// end of the text has none).
    empty_next: ByteSet,
    /// Whether every match from one place ends in one place (one length).
    fixed: bool,
    /// The class of a run piece.
    run: Option<ByteSet>,
}

impl Shape {
    fn of(h: &regex_syntax::hir::Hir, piece: &Piece) -> Shape {
        let (first, nullable) = first_bytes(h);
        let p = h.properties();
        let fixed = p.minimum_len().is_some() && p.minimum_len() == p.maximum_len();
        let run = match piece {
            Piece::Run { class, .. } => Some(*class),
            _ => None,
        };
        Shape {
            first,
            nullable,
            empty_next: empty_next(h),
            fixed,
            run,
        }
    }
}

/// The bytes an empty match of `h` can be followed by (a superset): none when `h` cannot
/// match empty or only at the end of the text (`\z`), the newline for `(?m:$)`.
fn empty_next(h: &regex_syntax::hir::Hir) -> ByteSet {
    use regex_syntax::hir::{HirKind, Look};
    let all = ByteSet::ALL;
    match h.kind() {
        HirKind::Empty => all,
        HirKind::Literal(l) if l.0.is_empty() => all,
        HirKind::Literal(_) | HirKind::Class(_) => ByteSet::default(),
        HirKind::Look(Look::End) => ByteSet::default(),
        HirKind::Look(Look::EndLF) => ByteSet::single(b'\n'),
        HirKind::Look(_) => all,
        HirKind::Repetition(r) if r.min == 0 => all,
        HirKind::Repetition(r) => empty_next(&r.sub),
        HirKind::Capture(c) => empty_next(&c.sub),
        HirKind::Concat(subs) => subs
            .iter()
            .fold(all, |acc, sub| acc.intersect(&empty_next(sub))),
        HirKind::Alternation(subs) => subs
            .iter()
            .fold(ByteSet::default(), |acc, sub| acc.union(&empty_next(sub))),
    }
}

/// The bytes a match of `h` can start with (a superset), and whether it can match nothing.
fn first_bytes(h: &regex_syntax::hir::Hir) -> (ByteSet, bool) {
    use regex_syntax::hir::HirKind;
    let all = ByteSet::ALL;
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => (ByteSet::default(), true),
        HirKind::Literal(l) => match l.0.first() {
            Some(&b) => (ByteSet::single(b), false),
            None => (ByteSet::default(), true),
        },
        // A class reaching past ASCII: any byte may start one of its encodings.
        HirKind::Class(c) => (ByteSet::of(c).unwrap_or(all), false),
        HirKind::Repetition(r) => {
            let (f, n) = first_bytes(&r.sub);
            (f, n || r.min == 0)
        }
        HirKind::Capture(c) => first_bytes(&c.sub),
        HirKind::Concat(subs) => {
            let mut acc = ByteSet::default();
            for sub in subs {
                let (f, n) = first_bytes(sub);
                acc = acc.union(&f);
                if !n {
                    return (acc, false);
                }
            }
            (acc, true)
        }
        HirKind::Alternation(subs) => {
            let mut acc = ByteSet::default();
            let mut nullable = false;
            for sub in subs {
                let (f, n) = first_bytes(sub);
                acc = acc.union(&f);
                nullable |= n;
            }
            (acc, nullable)
        }
    }
}

/// Whether [`look_holds`] decides `look` (the ASCII word and line assertions).
fn ascii_look(look: regex_syntax::hir::Look) -> bool {
    use regex_syntax::hir::Look;
    matches!(
        look,
        Look::Start
            | Look::End
            | Look::StartLF
            | Look::EndLF
            | Look::WordAscii
            | Look::WordAsciiNegate
            | Look::WordStartAscii
            | Look::WordEndAscii
            | Look::WordStartHalfAscii
            | Look::WordEndHalfAscii
    )
}

/// Whether `look` holds at `pos` of `text` (the whole haystack, as the regex engines see it).
fn look_holds(look: regex_syntax::hir::Look, text: &[u8], pos: usize) -> bool {
    use regex_syntax::hir::Look;
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let before = pos.checked_sub(1).and_then(|i| text.get(i));
    let after = text.get(pos);
    let (wb, wa) = (before.is_some_and(word), after.is_some_and(word));
    match look {
        Look::Start => pos == 0,
        Look::End => pos == text.len(),
        Look::StartLF => pos == 0 || before == Some(&b'\n'),
        Look::EndLF => pos == text.len() || after == Some(&b'\n'),
        Look::WordAscii => wb != wa,
        Look::WordAsciiNegate => wb == wa,
        Look::WordStartAscii => !wb && wa,
        Look::WordEndAscii => wb && !wa,
        Look::WordStartHalfAscii => !wb,
        Look::WordEndHalfAscii => !wa,
        _ => false,
    }
}

impl Compiled {
    fn split(&self) -> Option<&Split> {
        self.split
            .get_or_init(|| Split::plan_with(&self.rule.pattern, &self.pieces))
            .as_ref()
    }

    fn lead(&self) -> Option<&Lead> {
        self.lead
            .get_or_init(|| Lead::of(&self.rule.pattern, self.secret_group?))
            .as_ref()
    }

    /// The leftmost-first match of this rule in `input` and its groups: through the split when
    /// it applies, else (or when the split cannot decide) the capture engine.
    fn locate(
        &self,
        text: &[u8],
        input: &Input<'_>,
        caps: &mut Option<Captures>,
    ) -> Option<Located> {
        if let Some(split) = self.split() {
            if input.get_anchored().is_anchored() {
                // The match starts where the search does: when every piece's own match chains
                // up, that is the match, without a search for the whole pattern first.
                // Where each piece started, for a failure's verdict.
                let mut starts = [0usize; 24];
                match split.chain_at(text, input.start(), input.end(), &mut starts) {
                    Ok((end, g)) => {
                        let get = |i: usize| g.get(i).copied().flatten();
                        return Some(self.located((input.start(), end), SPLIT_GROUPS, get));
                    }
                    // No other path reaches the piece that failed: no match.
                    Err(k) if split.final_failure(text, input.end(), k, &starts) => return None,
                    Err(_) => {}
                }
            }
            let m = self.re.search(input)?;
            let whole = (m.start(), m.end());
            if let Some(g) = split.groups(text, whole, input.end()) {
                let get = |i: usize| g.get(i).copied().flatten();
                return Some(self.located(whole, SPLIT_GROUPS, get));
            }
        }
        let caps = caps.get_or_insert_with(|| self.re.create_captures());
        self.re.search_captures(input, caps);
        let m = caps.get_match()?;
        let get = |i: usize| caps.get_group(i).map(|s| (s.start, s.end));
        Some(self.located((m.start(), m.end()), caps.group_len(), get))
    }

    /// The secret is the `secret` group, else the first group that took part, else the match.
    fn located(
        &self,
        whole: (usize, usize),
        groups: usize,
        get: impl Fn(usize) -> Option<(usize, usize)>,
    ) -> Located {
        let secret = self
            .secret_group
            .and_then(&get)
            .or_else(|| (1..groups).find_map(&get))
            .unwrap_or(whole);
        Located {
            whole,
            secret,
            kw: self.kw_group.and_then(&get),
            host: self.host_group.and_then(&get),
        }
    }
}

struct Inner {
    rules: Vec<Compiled>,
    ac: Option<Keywords>,
    /// Per keyword, the rules it starts: those of keyword `k` are
    /// `on_hit[on_hit_first[k]..on_hit_first[k + 1]]`.
    on_hit: Vec<OnHit>,
    on_hit_first: Vec<u32>,
    /// Per rule, its [`rank_of`].
    rank: Vec<u16>,
    nokw: Option<Regex>,
    nokw_rules: Vec<usize>,
    digit: Option<Regex>,
    digit_rules: Vec<usize>,
    /// No digit rule's match can hold `g` to `z` (see [`digit_regions`]).
    digit_kill: bool,
    file_rules: Vec<usize>,
    has_path_rules: bool,
    allowlist: Allowlist,
    baseline: HashSet<String>,
    baseline_prefixes: Vec<String>,
    key: [u8; 32],
    min_level: Level,
}

/// Scans bytes for secrets and PII. Cheap to clone (shared, immutable); `Send + Sync`.
///
/// Build with [`Scanner::builder`]; [`Scanner::new`] uses the built-in rules.
#[derive(Clone)]
pub struct Scanner {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("rules", &self.inner.rules.len())
            .field("baseline", &self.inner.baseline.len())
            .field("min_level", &self.inner.min_level)
            .finish_non_exhaustive()
    }
}

/// The key used when none is given. Fingerprints are stable across runs and machines, so a
/// baseline file works out of the box; set your own key ([`ScannerBuilder::key`]) so nobody who
/// knows this default can test guesses against your fingerprints.
pub fn default_key() -> [u8; 32] {
    blake3::derive_key("secure-redact 2026 default fingerprint key", b"")
}

/// Builder for [`Scanner`].
#[derive(Debug, Clone)]
pub struct ScannerBuilder {
    rules: Vec<Rule>,
    allowlist: Allowlist,
    baseline: Vec<String>,
    key: [u8; 32],
    min_level: Level,
}

impl Default for ScannerBuilder {
    fn default() -> Self {
        ScannerBuilder {
            rules: crate::default_rules(),
            allowlist: Allowlist::new(),
            baseline: Vec::new(),
            key: default_key(),
            min_level: Level::Public,
        }
    }
}

impl ScannerBuilder {
    /// Replace the rule set (the default is [`crate::default_rules`]).
    pub fn rules(mut self, rules: Vec<Rule>) -> Self {
        self.rules = rules;
        self
    }
    /// Add rules to the current set; a rule with an existing id replaces it.
    pub fn add_rules(mut self, rules: impl IntoIterator<Item = Rule>) -> Self {
        for r in rules {
            if let Some(old) = self.rules.iter_mut().find(|o| o.id == r.id) {
                *old = r;
            } else {
                self.rules.push(r);
            }
        }
        self
    }
    /// Drop rules by id.
    pub fn disable<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, ids: I) -> Self {
        let ids: HashSet<String> = ids.into_iter().map(|s| s.as_ref().to_string()).collect();
        self.rules.retain(|r| !ids.contains(&r.id));
        self
    }
    /// Global allowlist.
    pub fn allowlist(mut self, a: Allowlist) -> Self {
        self.allowlist = a;
        self
    }
    /// Fingerprints (full 64 hex, or a prefix of at least 8) of accepted findings to ignore.
    pub fn baseline<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, fps: I) -> Self {
        self.baseline.extend(
            fps.into_iter()
                .map(|s| s.as_ref().trim().to_ascii_lowercase()),
        );
        self
    }
    /// The 32-byte key of the fingerprint (keyed blake3).
    pub fn key(mut self, key: [u8; 32]) -> Self {
        self.key = key;
        self
    }
    /// Derive the fingerprint key from a passphrase (blake3 `derive_key`).
    pub fn key_from_passphrase(mut self, passphrase: &str) -> Self {
        self.key = blake3::derive_key(
            "secure-redact fingerprint key from passphrase",
            passphrase.as_bytes(),
        );
        self
    }
    /// Report only findings at or above this level (default: all).
    pub fn min_level(mut self, l: Level) -> Self {
        self.min_level = l;
        self
    }
    /// Compile everything. Fails on an invalid regex (naming the rule) or a duplicate rule id.
    pub fn build(self) -> Result<Scanner> {
        let mut seen = HashSet::new();
        let mut rules = Vec::with_capacity(self.rules.len());
        let pieces = Arc::new(Pieces::default());
        for r in self.rules {
            if !seen.insert(r.id.clone()) {
                return Err(Error::Invalid(format!("duplicate rule id {:?}", r.id)));
            }
            let what = format!("rule {}", r.id);
            let re = compile_bytes_regex(&r.pattern, &what)?;
            let secret_group = re
                .group_info()
                .to_index(regex_automata::PatternID::ZERO, "secret");
            let host_group = re
                .group_info()
                .to_index(regex_automata::PatternID::ZERO, "host");
            let kw_group = re
                .group_info()
                .to_index(regex_automata::PatternID::ZERO, "kw");
            let allow = r
                .allowlist
                .iter()
                .map(|a| compile_bytes_regex(a, &format!("allowlist of rule {}", r.id)))
                .collect::<Result<Vec<_>>>()?;
            let path = r
                .path
                .as_deref()
                .map(|p| compile_bytes_regex(p, &format!("path of rule {}", r.id)))
                .transpose()?;
            let whole =
                kw_group.is_none() && host_group.is_none() && group_is_whole_match(&r.pattern);
            let starts_at_keyword = r.anchor.is_none()
                && !r.file
                && !r.keywords.is_empty()
                && starts_with_keyword(&r.pattern, &r.keywords);
            rules.push(Compiled {
                whole,
                split: std::sync::OnceLock::new(),
                pieces: pieces.clone(),
                id: Arc::from(r.id.as_str()),
                rule: r,
                re,
                secret_group,
                kw_group,
                host_group,
                allow,
                path,
                starts_at_keyword,
                lead: std::sync::OnceLock::new(),
            });
        }
        // One automaton over all distinct keywords.
        let mut kw_index: HashMap<String, u32> = HashMap::new();
        let mut kw_rules: Vec<Vec<u32>> = Vec::new();
        let mut nokw_patterns = Vec::new();
        let mut nokw_rules = Vec::new();
        let mut digit_patterns = Vec::new();
        let mut digit_rules = Vec::new();
        let mut file_rules = Vec::new();
        for (i, c) in rules.iter().enumerate() {
            if c.rule.file {
                file_rules.push(i);
                continue;
            }
            let kws: Vec<String> = c
                .rule
                .keywords
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .filter(|k| !k.is_empty())
                .collect();
            if kws.is_empty() && c.rule.digit_regions {
                digit_patterns.push(c.rule.pattern.clone());
                digit_rules.push(i);
                continue;
            }
            if kws.is_empty() {
                nokw_patterns.push(c.rule.pattern.clone());
                nokw_rules.push(i);
                continue;
            }
            for k in kws {
                let n = kw_index.len() as u32;
                let id = *kw_index.entry(k).or_insert(n);
                if id as usize == kw_rules.len() {
                    kw_rules.push(Vec::new());
                }
                let list = &mut kw_rules[id as usize];
                if !list.contains(&(i as u32)) {
                    list.push(i as u32);
                }
            }
        }
        let mut on_hit = Vec::new();
        let mut on_hit_first = vec![0u32];
        for list in &kw_rules {
            on_hit.extend(list.iter().map(|&ri| OnHit::of(ri, &rules[ri as usize])));
            on_hit_first.push(on_hit.len() as u32);
        }
        let ac = if kw_index.is_empty() {
            None
        } else {
            let mut pats = vec![String::new(); kw_index.len()];
            for (k, id) in kw_index {
                pats[id as usize] = k;
            }
            Some(Keywords::new(&pats)?)
        };
        let nokw = build_many(&nokw_patterns, "keyword-less rules")?;
        let digit = build_many(&digit_patterns, "digit rules")?;
        let digit_kill = digit_patterns.iter().all(|p| cut_fits(p));
        let mut baseline = HashSet::new();
        let mut baseline_prefixes = Vec::new();
        for b in self.baseline {
            if b.len() == 64 {
                baseline.insert(b);
            } else if b.len() >= 8 {
                baseline_prefixes.push(b);
            }
        }
        let has_path_rules = rules.iter().any(|r| r.path.is_some());
        let rank = rules.iter().map(rank_of).collect();
        Ok(Scanner {
            inner: Arc::new(Inner {
                rules,
                ac,
                on_hit,
                on_hit_first,
                rank,
                nokw,
                nokw_rules,
                digit,
                digit_kill,
                digit_rules,
                file_rules,
                has_path_rules,
                allowlist: self.allowlist,
                baseline,
                baseline_prefixes,
                key: self.key,
                min_level: self.min_level,
            }),
        })
    }
}

/// A candidate before fingerprinting (rule index and secret span).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Raw {
    pub rule: usize,
    pub start: usize,
    pub end: usize,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

impl Scanner {
    /// A scanner with the built-in rules and the default key.
    pub fn new() -> Self {
        match ScannerBuilder::default().build() {
            Ok(s) => s,
            // The built-in rules are compiled by the unit tests; failing here is a bug.
            Err(e) => panic!("built-in rules failed to compile: {e}"),
        }
    }

    /// Start configuring a scanner.
    pub fn builder() -> ScannerBuilder {
        ScannerBuilder::default()
    }

    /// The rules in use.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.inner.rules.iter().map(|c| &c.rule)
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules().find(|r| r.id == id)
    }

    /// Keyed fingerprint (64 hex digits) of a secret, as findings carry it.
    pub fn fingerprint(&self, secret: &[u8]) -> Fingerprint {
        Fingerprint::of(&blake3::keyed_hash(&self.inner.key, secret))
    }

    /// Scan bytes (any bytes: invalid UTF-8 and binary are fine). Findings are sorted by offset.
    pub fn scan(&self, text: &[u8]) -> Vec<Finding> {
        self.scan_source(Source::default(), text)
    }

    /// Scan bytes that come from `path`, so rules that depend on the file name run.
    pub fn scan_path(&self, path: &str, text: &[u8]) -> Vec<Finding> {
        self.scan_source(Source { path: Some(path) }, text)
    }

    /// Scan bytes from a [`Source`].
    pub fn scan_source(&self, src: Source<'_>, text: &[u8]) -> Vec<Finding> {
        let raws = self.candidates(src.path, text);
        self.finish(text, &raws, Pos::default())
    }

    /// The highest level among `findings` (`Public` when empty).
    pub fn level_of(findings: &[Finding]) -> Level {
        findings
            .iter()
            .map(|f| f.level)
            .max()
            .unwrap_or(Level::Public)
    }

    fn path_active(&self, i: usize, path: Option<&str>) -> bool {
        match &self.inner.rules[i].path {
            None => true,
            Some(p) => path.is_some_and(|pp| p.is_match(pp.as_bytes())),
        }
    }

    /// All accepted candidates, deduplicated, generic ones yielding to specific ones.
    pub(crate) fn candidates(&self, path: Option<&str>, text: &[u8]) -> Vec<Raw> {
        let inner = &*self.inner;
        let mut out: Vec<Raw> = Vec::new();
        if path.is_some_and(|p| inner.allowlist.allows_path(p)) {
            return out;
        }
        let active: Vec<bool> = if inner.has_path_rules {
            (0..inner.rules.len())
                .map(|i| self.path_active(i, path))
                .collect()
        } else {
            Vec::new()
        };
        let is_active = |i: usize| active.is_empty() || active[i];
        for &i in &inner.file_rules {
            if path.is_some() && is_active(i) {
                out.push(Raw {
                    rule: i,
                    start: 0,
                    end: 0,
                });
            }
        }
        if text.is_empty() {
            return out;
        }
        let mut caps: Vec<Option<Captures>> = (0..inner.rules.len()).map(|_| None).collect();
        // Generic rules' hits, verified last (when the specific findings are known).
        let mut deferred: Vec<(usize, usize, usize)> = Vec::new();
        if let Some(ac) = &inner.ac {
            const NONE: usize = usize::MAX;
            let mut pending: Vec<(usize, usize)> = vec![(NONE, 0); inner.rules.len()];
            ac.each(text, |pattern, m_start, m_end| {
                let (Some(&a), Some(&b)) = (
                    inner.on_hit_first.get(pattern),
                    inner.on_hit_first.get(pattern + 1),
                ) else {
                    return;
                };
                // Rules sharing a keyword often share its check: each runs once per hit.
                let mut checked = [None; HitCheck::COUNT];
                for h in inner.on_hit.get(a as usize..b as usize).unwrap_or(&[]) {
                    let ri = h.rule as usize;
                    if !is_active(ri) {
                        continue;
                    }
                    if let Some(check) = h.check {
                        let pass = match checked.get_mut(check.slot()) {
                            Some(memo) => {
                                *memo.get_or_insert_with(|| check.pass(text, m_start, m_end))
                            }
                            None => check.pass(text, m_start, m_end),
                        };
                        if !pass {
                            continue;
                        }
                    }
                    match h.verify {
                        Verify::AtKeyword => {
                            // Every match starts at a keyword: verify anchored there, over the
                            // window an unanchored search would use, skipping hits inside a
                            // secret this rule already found (as that search goes on after a
                            // match).
                            let p = &mut pending[ri];
                            if p.0 != NONE && m_start < p.1 {
                                continue;
                            }
                            let to = window_end(text, m_end, h.fwd);
                            let before = out.len();
                            let c = &mut caps[ri];
                            self.verify_anchored(ri, text, m_start, to, None, c, &mut out);
                            if let Some(last) = out.get(before..).and_then(|n| n.last()) {
                                pending[ri] = (last.start, last.end);
                            }
                        }
                        Verify::Anchored { back, generic } => {
                            let from = m_start.saturating_sub(back);
                            let to = m_end.saturating_add(h.fwd).min(text.len());
                            if generic {
                                deferred.push((ri, from, to));
                            } else {
                                let c = &mut caps[ri];
                                self.verify_anchored(ri, text, from, to, None, c, &mut out);
                            }
                        }
                        Verify::Window { back } => {
                            let ws = m_start.saturating_sub(back);
                            let we = window_end(text, m_end, h.fwd);
                            let p = &mut pending[ri];
                            if p.0 != NONE && ws <= p.1 {
                                p.0 = p.0.min(ws);
                                p.1 = p.1.max(we);
                            } else {
                                let prev = *p;
                                *p = (ws, we);
                                if prev.0 != NONE {
                                    self.verify(ri, text, prev.0, prev.1, &mut caps[ri], &mut out);
                                }
                            }
                        }
                    }
                }
            });
            for (ri, p) in pending.iter().enumerate() {
                if p.0 != NONE && !inner.rules[ri].starts_at_keyword {
                    self.verify(ri, text, p.0, p.1, &mut caps[ri], &mut out);
                }
            }
        }
        if let Some(re) = &inner.nokw {
            for m in re.find_iter(text) {
                let ri = inner.nokw_rules[m.pattern().as_usize()];
                if is_active(ri) {
                    self.verify(ri, text, m.start(), m.end(), &mut caps[ri], &mut out);
                }
            }
        }
        if let Some(re) = &inner.digit {
            digit_regions(text, inner.digit_kill, |from, to| {
                for m in re.find_iter(Input::new(text).range(from..to)) {
                    let ri = inner.digit_rules[m.pattern().as_usize()];
                    if is_active(ri) {
                        self.verify(ri, text, m.start(), m.end(), &mut caps[ri], &mut out);
                    }
                }
            });
        }
        let mut sorted = 0;
        let mut specific = None;
        if !deferred.is_empty() {
            // A generic candidate that overlaps a specific finding yields to it (see
            // [`resolve`]): it is not checked further. The specific ones are put in order
            // here once, for their spans and for `resolve`.
            out.sort_unstable_by_key(|r| order_key(&inner.rank, r));
            sorted = out.len();
            let sp = specific.insert(Specific::of(&inner.rank, &out));
            for (ri, from, to) in deferred {
                let lead = inner.rules[ri].lead();
                if lead.is_some_and(|l| l.yields(text, from, to, sp)) {
                    continue;
                }
                let c = &mut caps[ri];
                self.verify_anchored(ri, text, from, to, Some(sp), c, &mut out);
            }
        }
        resolve(&inner.rank, &mut out, sorted, specific.as_ref());
        out
    }

    fn verify(
        &self,
        ri: usize,
        text: &[u8],
        ws: usize,
        we: usize,
        caps: &mut Option<Captures>,
        out: &mut Vec<Raw>,
    ) {
        let c = &self.inner.rules[ri];
        let mut input = Input::new(text).range(ws..we);
        if c.whole {
            while let Some(m) = c.re.search(&input) {
                self.push_located(ri, c, text, &Located::whole(m.start(), m.end()), None, out);
                let next = m.end().max(m.start() + 1);
                if next >= we {
                    break;
                }
                input.set_start(next);
            }
            return;
        }
        while let Some(loc) = c.locate(text, &input, caps) {
            self.push_located(ri, c, text, &loc, None, out);
            let (ms, me) = loc.whole;
            let next = if me > ms { me } else { me + 1 };
            if next >= we {
                break;
            }
            input.set_start(next);
        }
    }

    /// Keeps a located match when its host is not reserved, it does not overlap a finding it
    /// would yield to, and the rule's checks accept it.
    fn push_located(
        &self,
        ri: usize,
        c: &Compiled,
        text: &[u8],
        loc: &Located,
        yield_to: Option<&Specific>,
        out: &mut Vec<Raw>,
    ) {
        let (s, e) = loc.secret;
        if yield_to.is_some_and(|sp| sp.overlaps(s, e)) {
            return;
        }
        let host_ok = loc
            .host
            .is_none_or(|(hs, he)| !reserved_host(&text[hs..he]));
        if host_ok && self.accept(c, text, s, e, loc.kw) {
            out.push(Raw {
                rule: ri,
                start: s,
                end: e,
            });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn verify_anchored(
        &self,
        ri: usize,
        text: &[u8],
        from: usize,
        to: usize,
        yield_to: Option<&Specific>,
        caps: &mut Option<Captures>,
        out: &mut Vec<Raw>,
    ) {
        let c = &self.inner.rules[ri];
        let input = Input::new(text)
            .range(from..to)
            .anchored(regex_automata::Anchored::Yes);
        if c.whole && c.split().is_none() {
            if let Some(m) = c.re.search(&input) {
                let loc = Located::whole(m.start(), m.end());
                self.push_located(ri, c, text, &loc, yield_to, out);
            }
            return;
        }
        if let Some(loc) = c.locate(text, &input, caps) {
            self.push_located(ri, c, text, &loc, yield_to, out);
        }
    }

    fn accept(
        &self,
        c: &Compiled,
        text: &[u8],
        s: usize,
        e: usize,
        kw: Option<(usize, usize)>,
    ) -> bool {
        let secret = &text[s..e];
        if let Some((ks, ke)) = kw {
            // `sumOfX` is not the word `sumo`: an identifier keyword must not end mid camel-case word.
            if ke > ks
                && text[ke - 1].is_ascii_uppercase()
                && text.get(ke).is_some_and(u8::is_ascii_lowercase)
                && text[ks..ke - 1].iter().any(u8::is_ascii_lowercase)
            {
                return false;
            }
        }
        let stats = c.rule.min_entropy.map(|min| (min, byte_stats(secret)));
        if stats.is_some_and(|(min, st)| st.entropy < min) {
            return false;
        }
        if c.rule.validator.is_some_and(|v| !v.check_at(text, s, e)) {
            return false;
        }
        if c.rule.placeholders && is_placeholder_with(secret, stats.as_ref().map(|(_, st)| st)) {
            return false;
        }
        if c.allow.iter().any(|a| a.is_match(secret)) {
            return false;
        }
        if c.rule.generic
            && (!generic_value_ok(text, s, e, kw.map(|(a, b)| &text[a..b]))
                || kw.is_some_and(|(ks, _)| websocket_header(&text[..ks])))
        {
            return false;
        }
        !self.inner.allowlist.allows_secret(secret)
    }

    /// Fingerprint, filter by level and baseline, and place each candidate.
    pub(crate) fn finish(&self, text: &[u8], raws: &[Raw], base: Pos) -> Vec<Finding> {
        let inner = &*self.inner;
        let mut out = Vec::with_capacity(raws.len());
        let mut line = base.line;
        let mut line_start: Option<usize> = None; // offset in `text` after the last newline seen
        let mut pos = 0usize;
        for r in raws {
            let c = &inner.rules[r.rule];
            if c.rule.level < inner.min_level {
                continue;
            }
            let fp = self.fingerprint(&text[r.start..r.end]);
            // (An empty baseline is the common case: no hashing of every fingerprint then.)
            if (!inner.baseline.is_empty() && inner.baseline.contains(fp.as_str()))
                || inner
                    .baseline_prefixes
                    .iter()
                    .any(|p| fp.starts_with(p.as_str()))
            {
                continue;
            }
            if r.start > pos {
                let seg = &text[pos..r.start];
                let n = memchr::memchr_iter(b'\n', seg).count();
                if n > 0 {
                    line += n;
                    line_start = memchr::memrchr(b'\n', seg).map(|i| pos + i + 1);
                }
                pos = r.start;
            }
            let column = match line_start {
                Some(ls) => r.start - ls + 1,
                None => base.column + r.start,
            };
            out.push(Finding {
                rule: c.id.clone(),
                level: c.rule.level,
                start: base.offset + r.start,
                end: base.offset + r.end,
                line,
                column,
                fingerprint: fp,
            });
        }
        out
    }
}

/// Hosts reserved for documentation and tests (RFC 2606, RFC 6761) and loopback: credentials
/// pointing there are examples or local fixtures, not leaks.
fn reserved_host(h: &[u8]) -> bool {
    let h = h.to_ascii_lowercase();
    let h = h.strip_suffix(b".").unwrap_or(&h);
    h == b"localhost"
        || h.starts_with(b"127.")
        || h == b"0.0.0.0"
        || [&b"example.com"[..], b"example.org", b"example.net"]
            .iter()
            .any(|d| h == *d || h.ends_with(&[b".", *d].concat()))
        || [&b".example"[..], b".test", b".invalid", b".localhost"]
            .iter()
            .any(|t| h.ends_with(t))
}

/// Whether the pattern's only capture group spans the whole match: the pattern is that group,
/// or that group between zero-width assertions (`\b(ghp_[A-Za-z0-9]{36})\b`).
fn group_is_whole_match(pattern: &str) -> bool {
    use regex_syntax::hir::HirKind;
    let Some(hir) = parse_bytes(pattern) else {
        return false;
    };
    if hir.properties().explicit_captures_len() != 1 {
        return false;
    }
    let is_group =
        |h: &regex_syntax::hir::Hir| matches!(h.kind(), HirKind::Capture(c) if c.index == 1);
    match hir.kind() {
        HirKind::Capture(_) => is_group(&hir),
        HirKind::Concat(subs) => {
            let mut rest = subs
                .iter()
                .filter(|h| !matches!(h.kind(), HirKind::Look(_)));
            rest.next().is_some_and(is_group) && rest.next().is_none()
        }
        _ => false,
    }
}

/// Where a verification window that reaches `fwd` bytes past a keyword ending at `end` stops:
/// at the end of the line it reaches into, or 256 bytes further when that line goes on.
fn window_end(text: &[u8], end: usize, fwd: usize) -> usize {
    let to = end.saturating_add(fwd).min(text.len());
    let tail = &text[to..(to + 256).min(text.len())];
    to + memchr::memchr(b'\n', tail).unwrap_or(tail.len())
}

/// Whether every match of `pattern` starts with one of `keywords` (ASCII case-insensitively):
/// each literal its matches can begin with (a finite set) begins with a keyword.
fn starts_with_keyword(pattern: &str, keywords: &[String]) -> bool {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let Some(hir) = parse_bytes(pattern) else {
        return false;
    };
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let Some(lits) = seq.literals() else {
        return false;
    };
    let kws: Vec<Vec<u8>> = keywords
        .iter()
        .map(|k| k.to_ascii_lowercase().into_bytes())
        .filter(|k| !k.is_empty())
        .collect();
    !lits.is_empty()
        && lits.iter().all(|l| {
            let l = l.as_bytes();
            kws.iter()
                .any(|k| l.get(..k.len()).is_some_and(|p| p.eq_ignore_ascii_case(k)))
        })
}

fn build_many(patterns: &[String], what: &str) -> Result<Option<Regex>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    Regex::builder()
        .syntax(bytes_syntax())
        .build_many(patterns)
        .map(Some)
        .map_err(|e| Error::Pattern {
            what: what.into(),
            message: e.to_string(),
        })
}

/// Calls `f(from, to)` for each region holding at least four digits no more than four bytes
/// apart, widened by 32 bytes each side and merged. Card numbers, phone numbers, SSNs, IBANs
/// and IP addresses all live in such regions; the rest of the text is never searched for them.
///
/// With `kill` (set when no digit rule's match can hold a lowercase letter `g` to `z` nor be
/// longer than 64 bytes, see [`cut_fits`]), such a letter breaks a run and bounds a region:
/// digits with one between them are not close together, and a region widens only up to one,
/// but by [`CUT_MARGIN`] bytes instead of 32. So the digits inside words, base64 and most
/// identifiers no longer make regions, and a match that holds a run of four close digits is
/// always inside a region (it holds no such letter, and all of it lies within 63 bytes of any
/// digit of that run), wherever the run sits in it: an IPv6 address whose only digits are its
/// first group, an IBAN whose only run is its last. (Uncut, a match more than 32 bytes from its
/// run is found only when another run's region covers it; a match with no run at all, such as
/// an IBAN of letters but for its check digits, is found only that way, cut or not, and the cut
/// makes it rarer.)
///
/// Works on bit masks, 64 bytes to a word (bit `i` of a mask is byte `i` of its block), so
/// keyword-dense text, a fifth digits, costs no step per digit: a digit starts a forward chain
/// of `k + 1` when one of the four bytes after it starts a chain of `k` (and the bytes between
/// pass), and ends a backward one likewise; it is in a run of four when its two chains add up
/// to four; the region is that set widened 32 (or 63) bytes each way through passing bytes
/// (five doublings and one more step, or six doublings). Each word needs its neighbours only
/// (chains and margins reach 12 and at most 63 bytes), so the masks are rolled along three
/// words at a time with nothing allocated; a word's letter mask is worked out only when a
/// chain or a margin reaches it.
fn digit_regions(text: &[u8], kill: bool, mut f: impl FnMut(usize, usize)) {
    let n = text.len();
    let words = n.div_ceil(64);
    let digits_of = |w: usize| -> u64 { text.get(w * 64..).map_or(0, digit_mask) };
    let mut pass = Passing {
        text,
        kill,
        tag: [0; 4],
        mask: [0; 4],
    };
    // Digit masks of words w ..= w+2 and run masks of w-1 ..= w+1 (`in_runs` of the first
    // word sees no digits before it).
    let (mut d_cur, mut d_next) = (digits_of(0), digits_of(1));
    let mut q_prev = 0u64;
    let mut q_cur = in_runs(0, d_cur, d_next, || pass.three(0));
    let mut open: Option<usize> = None;
    for w in 0..words {
        let d_after = digits_of(w + 2);
        let q_next = in_runs(d_cur, d_next, d_after, || pass.three(w + 1));
        let r = widen(q_prev, q_cur, q_next, kill, || pass.three(w));
        let base = w * 64;
        // Runs of set bits of `r`, carried across words.
        let mut pos = 0u32;
        while pos < 64 {
            let rest = r >> pos;
            match open {
                None => {
                    let skip = rest.trailing_zeros();
                    if skip >= 64 - pos {
                        break;
                    }
                    pos += skip;
                    open = Some(base + pos as usize);
                }
                Some(s) => {
                    let len = (!rest).trailing_zeros().min(64 - pos);
                    if len == 64 - pos {
                        break;
                    }
                    pos += len;
                    f(s, (base + pos as usize).min(n));
                    open = None;
                }
            }
        }
        (d_cur, d_next) = (d_next, d_after);
        (q_prev, q_cur) = (q_cur, q_next);
    }
    if let Some(s) = open {
        f(s, n);
    }
}

/// The bytes a run or a region may cross (all but lowercase `g` to `z` when killing), per
/// word, each worked out when first asked for and kept while its word is in reach (four
/// words, by word number modulo four: nothing moves from one word to the next). Words
/// before or past the text pass (they hold no digits).
struct Passing<'a> {
    text: &'a [u8],
    kill: bool,
    /// Per slot, its word plus one (0: none yet).
    tag: [usize; 4],
    mask: [u64; 4],
}

impl Passing<'_> {
    /// Words `w - 1 ..= w + 1`, `w` counted from one (0 is the word before the text).
    #[inline]
    fn three(&mut self, w: usize) -> [u64; 3] {
        if !self.kill {
            return [!0; 3];
        }
        [self.get(w), self.get(w + 1), self.get(w + 2)]
    }

    /// Word `w - 1` (`w` counted from one, 0 before the text).
    #[inline]
    fn get(&mut self, w: usize) -> u64 {
        let slot = w & 3;
        if self.tag[slot] == w + 1 {
            return self.mask[slot];
        }
        let m = match w.checked_sub(1).and_then(|w| self.text.get(w * 64..)) {
            Some(b) if !b.is_empty() => !range_mask(b, b'g', b'z'),
            _ => !0,
        };
        self.tag[slot] = w + 1;
        self.mask[slot] = m;
        m
    }
}

/// The digits of one 64-byte block (`block` may be longer or shorter; missing bytes are not
/// digits): bit `i` set when byte `i` is an ASCII digit.
fn digit_mask(block: &[u8]) -> u64 {
    range_mask(block, b'0', b'9')
}

/// Bit `i` set when byte `i` of the 64-byte block is in `lo..=hi` (an ASCII range: `lo <= hi
/// <= 0x7f`, as every caller's constants are); missing bytes are in no range.
fn range_mask(block: &[u8], lo: u8, hi: u8) -> u64 {
    match block.first_chunk::<64>() {
        Some(b) => range_mask_64(b, lo, hi),
        None => {
            let mut full = [0u8; 64];
            full[..block.len()].copy_from_slice(block);
            // The zero padding is in a range that starts at 0: drop its bits.
            range_mask_64(&full, lo, hi)
                & u64::MAX.checked_shr(64 - block.len() as u32).unwrap_or(0)
        }
    }
}

/// [`range_mask`] sixteen bytes at a time (SSE2, always there on x86-64): adding `0x80 - lo`
/// moves the range to the bottom of the signed bytes, where one signed compare against
/// `-128 + (hi - lo + 1)` picks it out. Bytes below `lo` land on non-negative values, bytes
/// from 0x80 on (when `hi` is ASCII) on values from `-lo` up, both above the limit.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
fn range_mask_64(block: &[u8; 64], lo: u8, hi: u8) -> u64 {
    use safe_arch::{
        add_i8_m128i, cmp_lt_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let shift = set_splat_i8_m128i(i8::from_ne_bytes([0x80u8.wrapping_sub(lo)]));
    let limit = set_splat_i8_m128i(i8::from_ne_bytes([hi.wrapping_sub(lo).wrapping_add(0x81)]));
    let mut m = 0u64;
    for (k, c) in block.chunks_exact(16).enumerate() {
        let Some(c) = c.first_chunk::<16>() else {
            continue;
        };
        let hits = cmp_lt_mask_i8_m128i(add_i8_m128i(load_unaligned_m128i(c), shift), limit);
        // One bit per byte of the sixteen: the mask fits 16 bits.
        m |= u64::from(move_mask_i8_m128i(hits) as u16) << (16 * k);
    }
    m
}

/// [`range_mask`] without SSE2.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn range_mask_64(block: &[u8; 64], lo: u8, hi: u8) -> u64 {
    range_mask_swar(block, lo, hi)
}

/// [`range_mask`] eight bytes at a time, portably (also tested on x86-64 against the same
/// reference), for ASCII ranges (`hi <= 0x7f`): per byte of `y = x & 0x7f`, `y + (0x80 - lo)`
/// has its high bit set exactly when `y >= lo`, and `y + (0x7f - hi)` exactly when `y > hi`;
/// neither sum passes 0xff, so nothing carries, and bytes with their own high bit set are
/// dropped. The high bits are then gathered into the top byte (byte j to bit 56+j: the
/// products land on distinct bits).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
fn range_mask_swar(block: &[u8; 64], lo: u8, hi: u8) -> u64 {
    debug_assert!(lo <= hi && hi <= 0x7f);
    const ONES: u64 = 0x0101_0101_0101_0101;
    let (lo, hi) = (u64::from(lo), u64::from(hi));
    let mut m = 0u64;
    for (k, c) in block.chunks_exact(8).enumerate() {
        let x = c.try_into().map_or(0, u64::from_le_bytes);
        let y = x & (0x7f * ONES);
        let bits = (y + (0x80 - lo) * ONES) & !(y + (0x7f - hi) * ONES) & !x & (0x80 * ONES);
        m |= ((bits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    m
}

/// Digits of the middle word that are in a run of at least four digits each at most four
/// bytes after the one before with only passing bytes between, given the digit masks of it
/// and its neighbours and (asked only when needed) their passing bytes.
fn in_runs(prev: u64, cur: u64, next: u64, pass: impl FnOnce() -> [u64; 3]) -> u64 {
    // A run of four spans at most 13 bytes, so its digits fall on distinct bits of the three
    // words OR-ed together: fewer than four bits there means no run.
    if cur == 0 || (prev | cur | next).count_ones() < 4 {
        return 0;
    }
    let [pp, pc, pn] = pass();
    // Forward: the middle word and the next (a chain reaches 12 bytes on). `c_j` at `i`:
    // bytes `i + 1 ..= i + j` pass, so a digit `j + 1` bytes on may follow.
    let d = u128::from(cur) | u128::from(next) << 64;
    let p = u128::from(pc) | u128::from(pn) << 64;
    let c1 = p >> 1;
    let c2 = c1 & p >> 2;
    let c3 = c2 & p >> 3;
    let step = |x: u128| d & (x >> 1 | (x >> 2 & c1) | (x >> 3 & c2) | (x >> 4 & c3));
    let f2 = step(d);
    let f3 = step(f2);
    let f4 = step(f3);
    // Backward: the previous word and the middle one.
    let e = u128::from(prev) | u128::from(cur) << 64;
    let q = u128::from(pp) | u128::from(pc) << 64;
    let k1 = q << 1;
    let k2 = k1 & q << 2;
    let k3 = k2 & q << 3;
    let back = |x: u128| e & (x << 1 | (x << 2 & k1) | (x << 3 & k2) | (x << 4 & k3));
    let b2 = back(e);
    let b3 = back(b2);
    let b4 = back(b3);
    let lo = |x: u128| x as u64;
    let hi = |x: u128| (x >> 64) as u64;
    lo(f4) | hi(b4) | (lo(f3) & hi(b2)) | (lo(f2) & hi(b3))
}

/// How far a cut region reaches past its run (see [`digit_regions`]): the most a word's
/// neighbour can give, six doublings.
const CUT_MARGIN: usize = 63;

/// The middle word of the run masks widened through passing bytes 32 bytes each way, or
/// [`CUT_MARGIN`] bytes when `far`.
fn widen(prev: u64, cur: u64, next: u64, far: bool, pass: impl FnOnce() -> [u64; 3]) -> u64 {
    if prev | cur | next == 0 {
        return 0;
    }
    let [pp, pc, pn] = pass();
    // A fill by doublings: after the step by `s`, `g` holds what the seeds reach within
    // `2s - 1` bytes and `p` the bytes whose `2s` bytes back (or on) all pass.
    let fill = |seed: u128, ok: u128, up: bool| {
        let sh = |x: u128, s: u32| if up { x << s } else { x >> s };
        let (mut g, mut p) = (seed, ok);
        for s in [1, 2, 4, 8, 16] {
            g |= p & sh(g, s);
            p &= sh(p, s);
        }
        if far {
            // Within 63 bytes.
            g | p & sh(g, 32)
        } else {
            g | ok & sh(g, 1)
        }
    };
    let up = fill(
        u128::from(prev) | u128::from(cur) << 64,
        u128::from(pp) | u128::from(pc) << 64,
        true,
    );
    let down = fill(
        u128::from(cur) | u128::from(next) << 64,
        u128::from(pc) | u128::from(pn) << 64,
        false,
    );
    (up >> 64) as u64 | down as u64
}

/// Whether a digit rule's regions may be cut (see [`digit_regions`]): its matches hold no
/// lowercase `g` to `z` and are at most 64 bytes long, so all of a match lies within
/// [`CUT_MARGIN`] bytes of any of its digits.
fn cut_fits(pattern: &str) -> bool {
    never_holds_g_to_z(pattern)
        && parse_bytes(pattern)
            .and_then(|h| h.properties().maximum_len())
            .is_some_and(|n| n <= CUT_MARGIN + 1)
}

/// Whether no match of `pattern` can hold a lowercase letter `g` to `z`: no literal or class
/// in it has one (look-arounds hold no bytes). False when it does not parse.
fn never_holds_g_to_z(pattern: &str) -> bool {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn clear(h: &Hir) -> bool {
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => true,
            HirKind::Literal(l) => !l.0.iter().any(|b| (b'g'..=b'z').contains(b)),
            HirKind::Class(Class::Unicode(c)) => !c
                .ranges()
                .iter()
                .any(|r| r.start() <= 'z' && r.end() >= 'g'),
            HirKind::Class(Class::Bytes(c)) => !c
                .ranges()
                .iter()
                .any(|r| r.start() <= b'z' && r.end() >= b'g'),
            HirKind::Repetition(r) => clear(&r.sub),
            HirKind::Capture(c) => clear(&c.sub),
            HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().all(clear),
        }
    }
    parse_bytes(pattern).is_some_and(|h| clear(&h))
}

/// Where a buffer starts in the whole input (for streaming).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pos {
    pub offset: usize,
    pub line: usize,
    /// 1-based column of the buffer's first byte.
    pub column: usize,
}

impl Default for Pos {
    fn default() -> Self {
        Pos {
            offset: 0,
            line: 1,
            column: 1,
        }
    }
}

/// Sort, drop duplicates, let generic findings yield to overlapping specific ones, and keep one
/// finding per identical span (the highest level, then the earliest rule).
///
/// `out[..sorted]` is already in order (see [`order_key`]); the rest (generic candidates,
/// found in text order) is then merged in. `specific`, when given, holds the spans of the
/// specific candidates (those of `out[..sorted]`): the rest adds none.
fn resolve(rank: &[u16], out: &mut Vec<Raw>, sorted: usize, specific: Option<&Specific>) {
    if sorted > 0 && sorted <= out.len() {
        out[sorted..].sort_unstable_by_key(|r| order_key(rank, r));
        // Two runs: the stable sort finds them and merges once.
        out.sort_by_key(|r| order_key(rank, r));
    } else {
        out.sort_unstable_by_key(|r| order_key(rank, r));
    }
    out.dedup_by(|b, a| a.start == b.start && a.end == b.end);
    if out.iter().any(|r| is_generic(rank, r)) {
        // Deduplication drops only candidates whose span another keeps: the same spans.
        let built;
        let specific = match specific {
            Some(s) => s,
            None => {
                built = Specific::of(rank, out);
                &built
            }
        };
        out.retain(|r| !is_generic(rank, r) || !specific.overlaps(r.start, r.end));
    }
}

/// The order of candidates: by span, then on equal spans a specific rule first (it is kept),
/// then the higher level, then the rule. Candidates with equal keys are equal.
fn order_key(rank: &[u16], r: &Raw) -> (usize, usize, u16, usize) {
    (
        r.start,
        r.end,
        rank.get(r.rule).copied().unwrap_or(u16::MAX),
        r.rule,
    )
}

/// Per rule, how it ranks among candidates with the same span in [`resolve`]: specific rules
/// first, then the higher level (lower ranks first).
fn rank_of(c: &Compiled) -> u16 {
    let level = c.rule.level as u16;
    u16::from(c.rule.generic) << 8 | (0xff - level)
}

/// Whether `r` is a generic rule's candidate (by its [`rank_of`]).
fn is_generic(rank: &[u16], r: &Raw) -> bool {
    rank.get(r.rule).is_some_and(|&k| k >> 8 != 0)
}

/// The spans of the specific (not generic) candidates, sorted by start, with a running maximum
/// of their ends: a span `[s, e)` overlaps one of them iff some span starting before `e` ends
/// after `s`. Empty spans count as one byte. Queries mostly come in the order of the text,
/// so each search gallops from where the last one ended instead of bisecting all spans.
struct Specific {
    spans: Vec<(usize, usize)>,
    max_end: Vec<usize>,
    /// The last search's answer.
    hint: std::cell::Cell<usize>,
}

impl Specific {
    fn of(rank: &[u16], raws: &[Raw]) -> Specific {
        Specific::from_spans(
            raws.iter()
                .filter(|r| !is_generic(rank, r))
                .map(|r| (r.start, r.end))
                .collect(),
        )
    }

    fn from_spans(mut spans: Vec<(usize, usize)>) -> Specific {
        for s in &mut spans {
            s.1 = s.1.max(s.0 + 1);
        }
        if !spans.is_sorted() {
            spans.sort_unstable();
        }
        let mut m = 0;
        let max_end = spans
            .iter()
            .map(|&(_, e)| {
                m = m.max(e);
                m
            })
            .collect();
        Specific {
            spans,
            max_end,
            hint: std::cell::Cell::new(0),
        }
    }

    fn overlaps(&self, s: usize, e: usize) -> bool {
        let idx = self.starting_before(e.max(s + 1));
        idx > 0 && self.max_end.get(idx - 1).is_some_and(|&m| m > s)
    }

    /// How many spans start before `e`: a galloping search from the last answer.
    fn starting_before(&self, e: usize) -> usize {
        let n = self.spans.len();
        let before = |i: usize| self.spans.get(i).is_some_and(|&(a, _)| a < e);
        let h = self.hint.get().min(n);
        // The answer lies in `lo..=hi`.
        let (lo, hi) = if h > 0 && !before(h - 1) {
            let (mut hi, mut step) = (h - 1, 1);
            loop {
                if hi < step {
                    break (0, hi);
                }
                if before(hi - step) {
                    break (hi - step + 1, hi);
                }
                hi -= step;
                step *= 2;
            }
        } else {
            let (mut lo, mut step) = (h, 1);
            loop {
                let j = lo + step - 1;
                if j >= n {
                    break (lo, n);
                }
                if !before(j) {
                    break (lo, j);
                }
                lo = j + 1;
                step *= 2;
            }
        };
        let idx = lo
            + self
                .spans
                .get(lo..hi)
                .map_or(0, |w| w.partition_point(|&(a, _)| a < e));
        self.hint.set(idx);
        idx
    }
}

/// Extra checks for generic assignments: the value must look random, not like code.
fn generic_value_ok(text: &[u8], s: usize, e: usize, kw: Option<&[u8]>) -> bool {
    let v = &text[s..e];
    let quoted = s > 0 && matches!(text[s - 1], b'"' | b'\'' | b'`');
    let starts = |k: &[u8], p: &[u8]| k.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    let password_like = kw.is_some_and(|k| starts(k, b"pass") || starts(k, b"pwd"));
    // Passwords may be short; tokens and keys are long.
    let min_len = if password_like { 8 } else { 18 };
    if v.len() < min_len {
        return false;
    }
    if !quoted && text.get(e) == Some(&b')') {
        return false; // an argument in a call, not an assignment
    }
    if !quoted && text.get(e) == Some(&b'<') && text.get(e + 1) != Some(&b'/') {
        return false; // a generic type (`key: PrivatePkcs8KeyDer<'a>`), not a value
    }
    // Runs such as `12345678` or `abcdefgh` (any case): eight-byte windows compared as words.
    const RUNS: [u64; 4] = [
        u64::from_le_bytes(*b"12345678"),
        u64::from_le_bytes(*b"23456789"),
        u64::from_le_bytes(*b"abcdefgh"),
        u64::from_le_bytes(*b"87654321"),
    ];
    if v.windows(8).any(|w| {
        let mut a = [0u8; 8];
        for (d, b) in a.iter_mut().zip(w) {
            *d = b.to_ascii_lowercase();
        }
        RUNS.contains(&u64::from_le_bytes(a))
    }) {
        return false;
    }
    if quoted && v.contains(&b'.') && looks_like_identifier(v) {
        return false;
    }
    // A quoted constant or variable name (`"CLIENT_TRAFFIC_SECRET_0"`, `"DB_TOKEN_2"`): upper
    // snake case of words. (Passwords may be anything, so not for them.)
    if quoted
        && !password_like
        && v.contains(&b'_')
        && v.iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
        && looks_like_identifier(v)
    {
        return false;
    }
    let has_digit = v.iter().any(u8::is_ascii_digit);
    let has_alpha = v.iter().any(u8::is_ascii_alphabetic);
    if !has_digit || !has_alpha || classes(v) < 2 {
        return false;
    }
    let ent = shannon_entropy(v);
    if ent < 3.0 || (v.len() < 16 && ent < 2.9) {
        return false;
    }
    if v.starts_with(b"/") || v.starts_with(b"./") || v.starts_with(b"~/") {
        return false;
    }
    // Common file names and versions: `key.pem`, `v1.2.3`.
    if let Some(dot) = memchr::memrchr(b'.', v) {
        let ext = &v[dot + 1..];
        if !ext.is_empty()
            && ext.len() <= 5
            && ext.iter().all(u8::is_ascii_lowercase)
            && v[..dot].iter().any(u8::is_ascii_alphabetic)
            && !v[..dot].contains(&b'.')
            && v.len() < 40
        {
            return false;
        }
    }
    if !quoted {
        // Unquoted identifiers and member accesses are code, not secrets.
        if v.iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
            && (looks_like_identifier(v) || crate::validate::code_identifier(v))
        {
            return false;
        }
        if ent < 3.3 {
            return false;
        }
    }
    true
}

/// Whether the keyword follows `websocket-` or `websocket_` (`Sec-WebSocket-Key`: the
/// handshake's public nonce, not a secret).
fn websocket_header(before: &[u8]) -> bool {
    before.len().checked_sub(10).is_some_and(|i| {
        before[i..i + 9].eq_ignore_ascii_case(b"websocket") && matches!(before[i + 9], b'-' | b'_')
    })
}

fn looks_like_identifier(v: &[u8]) -> bool {
    // dotted member access: `config.apiToken2`
    if v.contains(&b'.') {
        return v.split(|&b| b == b'.').all(|seg| {
            let lowerish = !seg.is_empty()
                && (seg[0].is_ascii_lowercase() || seg[0] == b'_')
                && seg
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
                && seg.iter().filter(|b| b.is_ascii_digit()).count() <= 3;
            lowerish || (!seg.is_empty() && !seg.contains(&b'.') && looks_like_identifier(seg))
        });
    }
    // snake_case with several words
    if v.contains(&b'_') {
        let segs: Vec<&[u8]> = v.split(|&b| b == b'_').filter(|s| !s.is_empty()).collect();
        let wordy = segs
            .iter()
            .filter(|s| s.len() >= 3 && s.iter().all(u8::is_ascii_alphabetic))
            .count();
        if wordy * 2 >= segs.len() {
            return true;
        }
    }
    // CamelCase words: TokenStream2, myApiKeyValue
    let mut words = 0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        if v[j].is_ascii_uppercase() {
            j += 1;
        }
        let k = j;
        while j < v.len() && v[j].is_ascii_lowercase() {
            j += 1;
        }
        if j - k >= 2 {
            words += 1;
            i = j;
        } else {
            break;
        }
    }
    while i < v.len() && v[i].is_ascii_digit() {
        i += 1;
    }
    i == v.len() && words >= 1
}

#[cfg(test)]
mod tests {
    use super::{digit_regions, group_is_whole_match, Compiled, Located, Scanner, Split};
    use proptest::prelude::*;
    use regex_automata::meta::Regex;
    use regex_automata::Input;
    use std::collections::HashSet;

    /// Every match of `c` in `text`: the spans from the capture engine beside the spans the
    /// split gives when it decides (`None` when it falls back).
    fn both_ways(c: &Compiled, text: &[u8]) -> Vec<(Located, Option<Located>)> {
        let mut out = Vec::new();
        let Some(split) = c.split() else { return out };
        let mut caps = c.re.create_captures();
        let mut input = Input::new(text);
        loop {
            c.re.search_captures(&input, &mut caps);
            let Some(m) = caps.get_match() else { break };
            let get = |i: usize| caps.get_group(i).map(|s| (s.start, s.end));
            let want = c.located((m.start(), m.end()), caps.group_len(), get);
            let got = split.groups(text, want.whole, text.len()).map(|g| {
                c.located(want.whole, super::SPLIT_GROUPS, |i| {
                    g.get(i).copied().flatten()
                })
            });
            out.push((want, got));
            let next = m.end().max(m.start() + 1);
            if next > text.len() {
                break;
            }
            input.set_start(next);
        }
        out
    }

    fn same(a: &Located, b: &Located) -> bool {
        (a.whole, a.secret, a.kw, a.host) == (b.whole, b.secret, b.kw, b.host)
    }

    fn texts() -> Vec<Vec<u8>> {
        let mut t: Vec<Vec<u8>> = crate::rules::all()
            .iter()
            .flat_map(|r| r.pos.iter().chain(r.neg.iter()))
            .map(|x| x.as_bytes().to_vec())
            .collect();
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/secrets");
        for f in ["tp.jsonl", "fp.jsonl"] {
            if let Ok(body) = std::fs::read_to_string(dir.join(f)) {
                for line in body.lines() {
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                        if let Some(x) = v["text"].as_str() {
                            t.push(x.as_bytes().to_vec());
                        }
                    }
                }
            }
        }
        t
    }

    /// The split gives exactly the capture engine's spans on every rule's samples and on the
    /// secrets corpus, and decides (without falling back) on most matches.
    #[test]
    fn split_spans_equal_capture_spans() {
        let scanner = Scanner::new();
        let texts = texts();
        let (mut decided, mut total, mut split_rules) = (0usize, 0usize, 0usize);
        for c in &scanner.inner.rules {
            split_rules += usize::from(c.split().is_some());
            for t in &texts {
                for (want, got) in both_ways(c, t) {
                    total += 1;
                    if let Some(got) = got {
                        decided += 1;
                        assert!(
                            same(&want, &got),
                            "rule {}: split differs on {:?}",
                            c.id,
                            String::from_utf8_lossy(t)
                        );
                    }
                }
            }
        }
        eprintln!(
            "{split_rules} of {} rules split; {decided} of {total} matches decided",
            scanner.inner.rules.len()
        );
        assert!(split_rules >= 50, "only {split_rules} rules have a split");
        assert!(
            total > 1000 && decided * 10 >= total * 9,
            "split decided {decided} of {total}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// The galloping overlap test answers as a scan of every span does, in any order of
        /// queries.
        #[test]
        fn overlaps_match_a_scan_of_every_span(
            spans in prop::collection::vec((0usize..200, 0usize..30), 0..40),
            queries in prop::collection::vec((0usize..240, 0usize..30), 1..40),
        ) {
            let spans: Vec<(usize, usize)> = spans.into_iter().map(|(s, n)| (s, s + n)).collect();
            let sp = super::Specific::from_spans(spans.clone());
            for (s, n) in queries {
                let e = s + n;
                let want = spans.iter().any(|&(a, b)| a < e.max(s + 1) && b.max(a + 1) > s);
                prop_assert_eq!(sp.overlaps(s, e), want, "query {}..{} over {:?}", s, e, spans);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// The dense and the lazy all-matches automata find the same ends (the lazy one is the
        /// fallback for patterns whose dense DFA would be large).
        #[test]
        fn dense_and_lazy_ends_agree(
            p in prop::sample::select(vec![
                r"[a-c]{0,3}b", r"(?:ab|a)c?", r"\ba[bc]*", r"(?i:key|token)[_.]?\d{0,2}\s*[:=]", r"(?:x|$)", r"(?m:$)a?",
            ]),
            text in prop::collection::vec(prop::sample::select(b"abcxKEY_.1 :=\n".to_vec()), 0..24),
            pos in 0usize..24,
            modulus in 1usize..4,
        ) {
            let h = crate::allowlist::parse_bytes(p).expect("parses");
            let dense = super::Ends::build(&h, super::DENSE_ENDS_LIMIT).expect("builds");
            let lazy = super::Ends::build(&h, 0).expect("builds");
            let kinds = (matches!(dense, super::Ends::Dense { .. }), matches!(lazy, super::Ends::Lazy { .. }));
            prop_assert_eq!(kinds, (true, true));
            let pos = pos.min(text.len());
            for limit in pos..=text.len() {
                let viable = |e: usize| e % modulus == 0;
                prop_assert_eq!(
                    dense.none_viable(&text, pos, limit, viable),
                    lazy.none_viable(&text, pos, limit, viable),
                    "{} on {:?} from {} to {}", p, String::from_utf8_lossy(&text), pos, limit
                );
            }
        }
    }

    /// Whether [`super::Lead::yields`] holds only where the generic rule's anchored match (if
    /// any) has a secret overlapping one of the spans, at every place of `text`.
    fn check_lead(c: &Compiled, text: &[u8], spans: Vec<(usize, usize)>) -> usize {
        let lead = c.lead().expect("the generic rule has a lead");
        let specific = super::Specific::from_spans(spans);
        let group = c.secret_group.expect("a secret group");
        let mut caps = c.re.create_captures();
        let mut yielded = 0;
        for from in 0..text.len() {
            if !lead.yields(text, from, text.len(), &specific) {
                continue;
            }
            yielded += 1;
            let input = Input::new(text)
                .range(from..)
                .anchored(regex_automata::Anchored::Yes);
            c.re.search_captures(&input, &mut caps);
            if let Some(g) = caps.get_group(group) {
                assert!(
                    specific.overlaps(g.start, g.end),
                    "yielded at {from} though the secret {:?} overlaps nothing in {:?}",
                    g.range(),
                    String::from_utf8_lossy(text)
                );
            }
        }
        yielded
    }

    /// A generic hit is skipped for a specific finding only when the secret it would find
    /// overlaps that finding: on the corpus with the real specific findings, and below on
    /// random mixtures with random spans.
    #[test]
    fn generic_hits_yield_only_to_overlapping_findings() {
        let scanner = Scanner::new();
        let c = scanner
            .inner
            .rules
            .iter()
            .find(|c| c.rule.generic)
            .expect("a generic rule");
        let mut yielded = 0;
        for t in texts() {
            let spans = scanner
                .candidates(None, &t)
                .iter()
                .filter(|r| !scanner.inner.rules[r.rule].rule.generic)
                .map(|r| (r.start, r.end))
                .collect();
            yielded += check_lead(c, &t, spans);
        }
        assert!(yielded > 100, "only {yielded} hits yielded");
    }

    /// Every occurrence of every keyword, ASCII case-insensitively, by a plain comparison at
    /// each offset: (end, keyword, start), sorted.
    fn keyword_reference(patterns: &[String], text: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for end in 1..=text.len() {
            for (k, p) in patterns.iter().enumerate() {
                let p = p.as_bytes();
                if p.len() <= end && text[end - p.len()..end].eq_ignore_ascii_case(p) {
                    out.push((end, k, end - p.len()));
                }
            }
        }
        out.sort_unstable();
        out
    }

    fn keyword_hits(patterns: &[String], text: &[u8]) -> Vec<(usize, usize, usize)> {
        keyword_hits_in_blocks(patterns, text, super::WALK_BLOCK)
    }

    fn keyword_hits_in_blocks(
        patterns: &[String],
        text: &[u8],
        block: usize,
    ) -> Vec<(usize, usize, usize)> {
        let kw = super::Keywords::new(patterns).expect("builds");
        let mut out = Vec::new();
        let mut last_end = 0;
        kw.each_in_blocks(text, block, |k, s, e| {
            assert!(e >= last_end, "hits out of order of their ends");
            last_end = e;
            out.push((e, k, s));
        });
        out.sort_unstable();
        out
    }

    /// The keyword walk finds exactly the occurrences a plain comparison finds, on the real
    /// keywords over the corpus and below on random keyword sets over random text.
    #[test]
    fn keyword_walk_matches_reference_on_the_corpus() {
        let patterns: Vec<String> = crate::rules::all()
            .iter()
            .flat_map(|r| r.keywords.iter())
            .map(|k| k.to_ascii_lowercase())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut hits = 0;
        for t in texts().iter().step_by(24) {
            let want = keyword_reference(&patterns, t);
            assert_eq!(keyword_hits(&patterns, t), want);
            hits += want.len();
        }
        assert!(hits > 200, "only {hits} keyword hits");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn keyword_walk_matches_reference(
            patterns in prop::collection::vec("[abAB_.@:/0-9]{1,6}", 1..12),
            text in prop::collection::vec(prop::sample::select(b"abAB_.@:/0x\n\xc3".to_vec()), 0..200),
        ) {
            let mut patterns = patterns;
            patterns.sort();
            patterns.dedup();
            prop_assert_eq!(keyword_hits(&patterns, &text), keyword_reference(&patterns, &text));
        }

        /// The same when blocks are walked as two halves (blocks small enough to split the
        /// text many times; a hit may straddle a half's or a block's edge).
        #[test]
        fn two_stream_keyword_walk_matches_reference(
            patterns in prop::collection::vec("[abAB_.@:/0-9]{1,6}", 1..12),
            text in prop::collection::vec(prop::sample::select(b"abAB_.@:/0x\n\xc3".to_vec()), 0..1500),
            block in 140usize..600,
        ) {
            let mut patterns = patterns;
            patterns.sort();
            patterns.dedup();
            prop_assert_eq!(keyword_hits_in_blocks(&patterns, &text, block), keyword_reference(&patterns, &text));
        }
    }

    fn fragment() -> impl Strategy<Value = String> {
        let samples: Vec<String> = crate::rules::all()
            .iter()
            .flat_map(|r| r.pos.iter().chain(r.neg.iter()))
            .map(|x| x.to_string())
            .collect();
        prop_oneof![
            prop::sample::select(samples),
            r#"[ \t\n\\"'=:;,.<>(){}\[\]a-zA-Z0-9_+/-]{0,24}"#,
            prop::sample::select(vec![
                "key", "token", "secret", "password", "api_key", " = ", ": ", "\"", "=>", ":=",
                "\\\""
            ])
            .prop_map(str::to_string),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn generic_hits_yield_only_to_overlapping_findings_on_mixtures(
            parts in prop::collection::vec(fragment(), 1..8),
            spans in prop::collection::vec((0usize..400, 1usize..24), 0..6),
        ) {
            static SCANNER: std::sync::OnceLock<Scanner> = std::sync::OnceLock::new();
            let scanner = SCANNER.get_or_init(Scanner::new);
            let c = scanner.inner.rules.iter().find(|c| c.rule.generic).expect("a generic rule");
            let text = parts.concat().into_bytes();
            let spans = spans.into_iter().map(|(s, n)| (s % (text.len() + 1), s % (text.len() + 1) + n)).collect();
            check_lead(c, &text, spans);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        /// Same on random mixtures of samples, separators and noise.
        #[test]
        fn split_spans_equal_capture_spans_on_mixtures(parts in prop::collection::vec(fragment(), 1..12)) {
            static SCANNER: std::sync::OnceLock<Scanner> = std::sync::OnceLock::new();
            let text = parts.concat();
            let scanner = SCANNER.get_or_init(Scanner::new);
            for c in &scanner.inner.rules {
                for (want, got) in both_ways(c, text.as_bytes()) {
                    if let Some(got) = got {
                        prop_assert!(same(&want, &got), "rule {}: split differs on {:?}", c.id, text);
                    }
                }
            }
        }
    }

    fn atom() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "a",
            "b",
            "ab",
            "[ab]",
            "[ab]*",
            "[ab]+",
            "[ab]*?",
            "[ab]+?",
            "[ab]{0,2}",
            "[ab]{2,}",
            "(?:a|ab|b)",
            "(?:ab|a)",
            "(?:ab)?",
            "a?",
            " *",
            "=?",
            r"\b",
            r"\B",
            "$",
            "(?:=|==)",
            "(?i:ab)",
            "[^ ]*",
            r"\w+",
            "ba",
            "[ab]{1,3}",
            "^",
            "(?m:^)",
            "(?m:$)",
            r"\b{start}",
            r"\b{end}",
            r"\b{start-half}",
            r"\b{end-half}",
            "(?:a|$)",
        ])
        .prop_map(str::to_string)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// The split's spans equal the capture engine's on random patterns made of top-level
        /// groups and ambiguous pieces (alternations, lazy and greedy repetitions,
        /// look-arounds), over random haystacks, whenever the split decides.
        #[test]
        fn split_equals_captures_on_random_patterns(
            items in prop::collection::vec((any::<bool>(), prop::collection::vec(atom(), 1..3)), 1..5),
            hay in "[ab =\n]{0,24}",
            cut in any::<usize>(),
        ) {
            let mut pattern = String::new();
            for (group, atoms) in &items {
                let body = atoms.concat();
                if *group {
                    pattern.push_str(&format!("({body})"));
                } else {
                    pattern.push_str(&format!("(?:{body})"));
                }
            }
            let Ok(re) = super::compile_bytes_regex(&pattern, "test") else { return Ok(()) };
            let Some(split) = Split::plan(&pattern) else { return Ok(()) };
            let text = hay.as_bytes();
            let mut caps = re.create_captures();
            let mut input = Input::new(text);
            loop {
                re.search_captures(&input, &mut caps);
                let Some(m) = caps.get_match() else { break };
                if let Some(g) = split.groups(text, (m.start(), m.end()), text.len()) {
                    for i in 1..caps.group_len() {
                        let want = caps.get_group(i).map(|s| (s.start, s.end));
                        prop_assert_eq!(g.get(i).copied().flatten(), want, "pattern {} on {:?}", pattern, hay);
                    }
                }
                let next = m.end().max(m.start() + 1);
                if next > text.len() {
                    break;
                }
                input.set_start(next);
            }
            // Anchored at every position, searching up to the end or to a cut before it (look-
            // arounds still see the bytes past the cut): a chain that completes is the anchored
            // match.
            for at in 0..=text.len() {
                for limit in [text.len(), at + cut % (text.len() - at + 1)] {
                let mut starts = [0usize; 24];
                let (end, g) = match split.chain_at(text, at, limit, &mut starts) {
                    Ok(found) => found,
                    Err(k) => {
                        // A failure the split calls final: the capture engine finds nothing.
                        if split.final_failure(text, limit, k, &starts) {
                            let input = Input::new(text).range(at..limit).anchored(regex_automata::Anchored::Yes);
                            prop_assert!(!re.is_match(input), "pattern {} on {:?} at {}..{}: piece {} failed, tight {:?}", pattern, hay, at, limit, k, split.tight);
                        }
                        continue;
                    }
                };
                let input = Input::new(text).range(at..limit).anchored(regex_automata::Anchored::Yes);
                re.search_captures(&input, &mut caps);
                let m = caps.get_match();
                prop_assert_eq!(m.map(|m| (m.start(), m.end())), Some((at, end)), "pattern {} on {:?} at {}", pattern, hay, at);
                for i in 1..caps.group_len() {
                    let want = caps.get_group(i).map(|s| (s.start, s.end));
                    prop_assert_eq!(g.get(i).copied().flatten(), want, "pattern {} on {:?} at {}", pattern, hay, at);
                }
                }
            }
        }
    }

    proptest! {
        /// Each assertion the split checks itself holds exactly where the regex engine says it
        /// does, at every position of random haystacks (word bytes, blanks, newlines, non-ASCII).
        #[test]
        fn assertions_match_the_regex_engine(hay in prop::collection::vec(prop::sample::select(vec![b'a', b'_', b'0', b' ', b'\n', b'-', 0xC3, 0xA9]), 0..16)) {
            use regex_syntax::hir::HirKind;
            for pattern in [r"^", r"$", r"(?m:^)", r"(?m:$)", r"\b", r"\B", r"\b{start}", r"\b{end}", r"\b{start-half}", r"\b{end-half}"] {
                let hir = crate::allowlist::parse_bytes(pattern).expect("parses");
                let HirKind::Look(look) = hir.kind() else { panic!("{pattern} is not one assertion") };
                prop_assert!(super::ascii_look(*look), "{} is not decided by look_holds", pattern);
                // Empty matches inside a multi-byte character count here, as within a match.
                let re = Regex::builder()
                    .syntax(crate::allowlist::bytes_syntax())
                    .configure(Regex::config().utf8_empty(false))
                    .build(pattern)
                    .expect("compiles");
                for at in 0..=hay.len() {
                    let input = Input::new(&hay).range(at..at).anchored(regex_automata::Anchored::Yes);
                    prop_assert_eq!(super::look_holds(*look, &hay, at), re.is_match(input), "{} at {} of {:?}", pattern, at, hay);
                }
            }
        }
    }

    #[test]
    fn rules_that_start_at_a_keyword() {
        let kw = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let starts = super::starts_with_keyword;
        assert!(starts(
            r"\b((?:AKIA|ASIA)[A-Z2-7]{16})\b",
            &kw(&["akia", "asia"])
        ));
        assert!(starts(r"(?i)\b(xox[pe]-[0-9]+)", &kw(&["xoxp-", "xoxe-"])));
        // A prefix without a keyword, a keyword in the middle, a class first.
        assert!(!starts(r"\b((?:AKIA|ABIA)[A-Z2-7]{16})\b", &kw(&["akia"])));
        assert!(!starts(r"[a-z]+_token=(\w+)", &kw(&["_token"])));
        assert!(!starts(
            r"(?:^|[^0-9])([0-9]{5}:A\w{34})",
            &kw(&["telegram"])
        ));
        assert!(!starts(r"ab(c)", &kw(&["abcd"])));
    }

    #[test]
    fn plans_need_top_level_groups() {
        assert!(Split::plan(r"key=([a-z]+)").is_some());
        assert!(Split::plan(r"(?i:(?P<kw>secret|token))\s*=\s*(?P<secret>[a-z]{8,})").is_some());
        assert!(Split::plan(r"key=([a-z]+)?").is_none());
        assert!(Split::plan(r"(?:a([0-9])|b)").is_none());
        assert!(Split::plan(r"((a)b)").is_none());
        assert!(Split::plan(r"[a-z]+").is_none());
    }

    #[test]
    fn whole_match_groups() {
        assert!(group_is_whole_match(r"\b(ghp_[A-Za-z0-9]{36})\b"));
        assert!(group_is_whole_match(r"(?i)(abc[0-9]+)"));
        assert!(!group_is_whole_match(r"key=([a-z]+)"));
        assert!(!group_is_whole_match(r"\b(a)(b)\b"));
        assert!(!group_is_whole_match(r"(?:^|[^a-z])([0-9]{4})"));
        assert!(!group_is_whole_match(r"\b([a-z]+)(?:[^a-z]|$)"));
        assert!(!group_is_whole_match(r"[a-z]+"));
    }

    /// The plain byte-by-byte definition of the regions `digit_regions` reports: runs of four
    /// or more digits, each at most four bytes after the one before with no killed byte
    /// between, widened 32 bytes (63 when killing) each way but not past a killed byte, merged
    /// when they touch.
    fn reference(text: &[u8], kill: bool) -> Vec<(usize, usize)> {
        let n = text.len();
        let killed = |c: u8| kill && (b'g'..=b'z').contains(&c);
        let digits: Vec<usize> = (0..n).filter(|&i| text[i].is_ascii_digit()).collect();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while i < digits.len() {
            let mut j = i;
            while j + 1 < digits.len()
                && digits[j + 1] - digits[j] <= 4
                && !text[digits[j]..digits[j + 1]].iter().any(|&c| killed(c))
            {
                j += 1;
            }
            if j + 1 - i >= 4 {
                let (first, last) = (digits[i], digits[j]);
                let margin = if kill { super::CUT_MARGIN } else { 32 };
                let mut s = first.saturating_sub(margin);
                while s < first && text[s..first].iter().any(|&c| killed(c)) {
                    s += 1;
                }
                let mut e = (last + 1 + margin).min(n);
                while e > last && text[last..e].iter().any(|&c| killed(c)) {
                    e -= 1;
                }
                runs.push((s, e));
            }
            i = j + 1;
        }
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (s, e) in runs {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }

    #[test]
    fn fingerprints_are_blake3_hex() {
        let s = Scanner::builder().key([7; 32]).build().expect("builds");
        for secret in [
            &b""[..],
            b"a",
            b"ghp_i6ueojowig3fjl1dzvq3uhfm0ig05bkhoiz6",
            &[0xff; 300],
        ] {
            let want = blake3::keyed_hash(&[7; 32], secret).to_hex();
            assert_eq!(s.fingerprint(secret), want.as_str());
        }
    }

    /// Numbers whose only run is far from one end, between words that cut the regions (the
    /// shapes an uncut 32-byte margin finds only when some other run's region covers them).
    #[test]
    fn cut_regions_reach_numbers_whose_run_is_far_from_an_end() {
        let s = Scanner::new();
        let re = s.inner.digit.as_ref().expect("digit rules");
        for (text, number) in [
            (
                "ref 1234 to QA11 ABCD EFGH IJKL MNOP QRST UVWX 1234 on 5678",
                "QA11 ABCD EFGH IJKL MNOP QRST UVWX 1234",
            ),
            (
                "x 2001:abcd:abcd:abcd:abcd:abcd:abcd:abcd to 5555",
                "2001:abcd:abcd:abcd:abcd:abcd:abcd:abcd",
            ),
            (
                "8080 to fd00:abcd:beef:cafe:dead:face:feed:1234 on 8443",
                "fd00:abcd:beef:cafe:dead:face:feed:1234",
            ),
        ] {
            let text = text.as_bytes();
            let ps = text
                .windows(number.len())
                .position(|w| w == number.as_bytes())
                .expect("planted");
            let pe = ps + number.len();
            let mut got = Vec::new();
            digit_regions(text, true, |from, to| {
                got.extend(
                    re.find_iter(Input::new(text).range(from..to))
                        .map(|m| (m.start(), m.end())),
                );
            });
            assert!(
                got.iter().any(|&(ms, me)| ms <= ps && me >= pe),
                "{number}: {got:?}"
            );
        }
    }

    #[test]
    fn built_in_digit_rules_never_hold_g_to_z() {
        assert!(Scanner::new().inner.digit_kill);
        assert!(super::never_holds_g_to_z(
            r"(?:^|[^\w.])((?:[0-9]{1,3}\.){3}[0-9]{1,3})"
        ));
        assert!(super::never_holds_g_to_z(r"[A-F0-9]{4}\b"));
        for p in [
            r"[0-9]{4}x",
            r"(?i)[0-9]{4}-id",
            r"[^0-9]",
            r"\d{4}.",
            "[a-z0-9]{4}",
            r"(?u:\w)",
            r"(?iu)k",
            "[[:alpha:]]",
        ] {
            assert!(!super::never_holds_g_to_z(p), "{p}");
        }
        assert!(super::never_holds_g_to_z(r"(?i)[a-f0-9]{4}"));
        // Cut only when a match also fits the margin.
        assert!(super::cut_fits(r"[0-9]{4}(?:-[0-9]{4}){3}"));
        assert!(super::cut_fits(&format!(
            "[0-9]{{{}}}",
            super::CUT_MARGIN + 1
        )));
        for p in [
            format!("[0-9]{{{}}}", super::CUT_MARGIN + 2),
            "[0-9]{4}[ ]*".to_string(),
            "[0-9]{4}x".to_string(),
            "(".to_string(),
        ] {
            assert!(!super::cut_fits(&p), "{p}");
        }
    }

    #[test]
    fn range_masks_mark_exactly_the_range() {
        for (lo, hi) in [
            (b'0', b'9'),
            (b'g', b'z'),
            (0, 0x7f),
            (b'a', b'a'),
            (0x7f, 0x7f),
        ] {
            for b in 0..=255u8 {
                for at in [0, 1, 15, 16, 33, 63] {
                    let mut block = [b'x'; 64];
                    block[at] = b;
                    let want: u64 = block
                        .iter()
                        .enumerate()
                        .map(|(j, c)| u64::from((lo..=hi).contains(c)) << j)
                        .sum();
                    assert_eq!(super::range_mask(&block, lo, hi), want, "{lo}..={hi} {b}");
                    assert_eq!(super::range_mask_swar(&block, lo, hi), want, "swar {b}");
                }
                // A short block: missing bytes are in no range.
                for len in [0, 1, 7, 8, 17, 63] {
                    let block = vec![b; len];
                    let want = if (lo..=hi).contains(&b) && len > 0 {
                        u64::MAX >> (64 - len)
                    } else {
                        0
                    };
                    assert_eq!(super::range_mask(&block, lo, hi), want, "short {len} {b}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn range_masks_match_a_byte_test(
            block in proptest::collection::vec(proptest::prelude::any::<u8>(), 64),
            lo in 0u8..0x80,
            len in 0u8..0x80,
        ) {
            let hi = lo.saturating_add(len).min(0x7f);
            let block: [u8; 64] = block.try_into().unwrap_or([0; 64]);
            let want: u64 = block
                .iter()
                .enumerate()
                .map(|(j, c)| u64::from((lo..=hi).contains(c)) << j)
                .sum();
            proptest::prop_assert_eq!(super::range_mask(&block, lo, hi), want);
            proptest::prop_assert_eq!(super::range_mask_swar(&block, lo, hi), want);
        }

        #[test]
        fn digit_mask_marks_exactly_the_digits(
            block in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)
        ) {
            let want: u64 = block
                .iter()
                .take(64)
                .enumerate()
                .map(|(j, c)| u64::from(c.is_ascii_digit()) << j)
                .sum();
            proptest::prop_assert_eq!(super::digit_mask(&block), want);
        }

        /// Digit-sparse and digit-dense text (a fifth to nine tenths digits), long enough for
        /// runs and margins to cross 64-byte words many times.
        #[test]
        fn digit_regions_match_reference(
            text in prop_oneof![
                proptest::collection::vec(
                    proptest::sample::select(b"0123456789 a.-x\n".to_vec()), 0..400),
                proptest::collection::vec(
                    proptest::sample::select(b"0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ+/=_-".to_vec()),
                    0..1500),
                proptest::collection::vec(
                    proptest::sample::select(b"01234567890123456789x".to_vec()), 0..700),
            ]
        ) {
            for kill in [false, true] {
                let mut got = Vec::new();
                digit_regions(&text, kill, |s, e| got.push((s, e)));
                proptest::prop_assert_eq!(got, reference(&text, kill), "kill {}", kill);
            }
        }

        /// In the regions cut at `g` to `z`, the built-in digit rules find every number of
        /// theirs that holds a run of four close digits, wherever the run sits in it (IPv6 and
        /// IBANs whose only run is more than 32 bytes from one end included), planted between
        /// words, hex, base64 and digits of all densities.
        #[test]
        fn cut_digit_regions_find_every_number_with_a_run(
            parts in proptest::collection::vec((
                proptest::sample::select(vec![
                    "4539 3373 4419 7924", "5186-3760-9260-3090", "3782 822463 10005",
                    "+44 20 7946 0958", "(415) 555-2671", "202-555-0143", "536-22-8726",
                    "GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "203.0.113.42",
                    "10.12.0.7", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "fe80:1:2:3:4:5:6:7",
                    "2001:abcd:abcd:abcd:abcd:abcd:abcd:abcd", "fd00:abcd:beef:cafe:dead:face:feed:1234",
                    "QA11 ABCD EFGH IJKL MNOP QRST UVWX 1234", "NL91 ABNA 0417 1643 00",
                    "1.2.3.4.5", "v1.2.3", "x4539 3373 4419 7924",
                ]),
                proptest::collection::vec(
                    proptest::sample::select(b"0123456789abcdefghijklmnopqrstuvwxyzABGHZ .:-".to_vec()),
                    0..70),
            ), 0..12)
        ) {
            let s = Scanner::new();
            let (Some(re), true) = (&s.inner.digit, s.inner.digit_kill) else {
                return Err(proptest::test_runner::TestCaseError::fail("no cut digit regions"));
            };
            // A number counts when the rules match it on its own and it holds a run.
            let counts = |n: &str| {
                let alone = format!("  {n}  ");
                let found = re.find_iter(alone.as_bytes()).any(|m| m.start() <= 2 && m.end() >= n.len() + 2);
                found && reference(n.as_bytes(), true).iter().any(|&(s, e)| s == 0 && e == n.len())
            };
            let mut text = Vec::new();
            let mut want = Vec::new();
            for (number, filler) in &parts {
                text.extend_from_slice(filler);
                text.extend_from_slice(b"  ");
                if counts(number) {
                    want.push((text.len(), text.len() + number.len()));
                }
                text.extend_from_slice(number.as_bytes());
                text.extend_from_slice(b"  ");
            }
            let mut got = Vec::new();
            digit_regions(&text, true, |from, to| {
                for m in re.find_iter(regex_automata::Input::new(&text).range(from..to)) {
                    got.push((m.start(), m.end()));
                }
            });
            for (ps, pe) in want {
                proptest::prop_assert!(
                    got.iter().any(|&(ms, me)| ms <= ps && me >= pe),
                    "{:?} not found in {:?}", String::from_utf8_lossy(&text[ps..pe]),
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }
}
