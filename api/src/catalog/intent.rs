//! What an agent's search query asks for, read from its words: the same
//! words with common synonyms added (an agent says "meeting", a calendar
//! API says "event"), and the action it wants (list, read, create, send,
//! change, delete, search), which [`super::search`] matches against the
//! verb in each tool's slug. Everything here is a fixed table: ranking
//! stays deterministic and inspectable.

/// What a tool does, or what a query asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Many things: list, show all, what's new.
    List,
    /// One thing: get, read, details.
    Get,
    /// Make something: create, add, open, schedule.
    Create,
    /// Send something: send, post, reply.
    Send,
    /// Change something: update, edit, move, mark, close.
    Update,
    /// Remove something: delete, cancel, trash.
    Delete,
    /// Find by a query: search, find, look up, check availability.
    Search,
}

impl Action {
    /// Reading actions, as opposed to ones that change something.
    fn reads(self) -> bool {
        matches!(self, Action::List | Action::Get | Action::Search)
    }

    /// How well a tool doing `self` answers a query asking for `wanted`: a
    /// factor on its score.
    pub fn fit(self, wanted: Action) -> f32 {
        if self == wanted {
            1.35
        } else if self.reads() == wanted.reads() {
            1.0
        } else {
            0.7
        }
    }

    /// The action of a tool, from the verb in its slug (after the toolkit
    /// prefix): `GMAIL_LIST_MESSAGES` lists.
    pub fn of_slug(slug: &str) -> Option<Action> {
        slug.split('_').skip(1).find_map(|word| {
            Some(match word {
                "LIST" | "FETCH" => Action::List,
                "GET" | "RETRIEVE" => Action::Get,
                "CREATE" | "ADD" | "APPEND" | "INVITE" => Action::Create,
                "SEND" => Action::Send,
                "UPDATE" | "MODIFY" | "PATCH" | "SET" | "MERGE" | "UNTRASH" => Action::Update,
                "DELETE" | "TRASH" | "REMOVE" => Action::Delete,
                "SEARCH" | "QUERY" | "LOOKUP" => Action::Search,
                _ => return None,
            })
        })
    }
}

/// Words that name an action, first match wins (so "send the draft" sends
/// and "list my drafts" lists).
const ACTIONS: &[(&str, Action)] = &[
    // "restore from trash" restores.
    ("restore", Action::Update),
    ("untrash", Action::Update),
    ("delete", Action::Delete),
    ("remove", Action::Delete),
    ("cancel", Action::Delete),
    ("trash", Action::Delete),
    ("send", Action::Send),
    ("post", Action::Send),
    ("reply", Action::Send),
    ("search", Action::Search),
    ("find", Action::Search),
    ("lookup", Action::Search),
    ("query", Action::Search),
    ("available", Action::Search),
    ("free", Action::Search),
    ("update", Action::Update),
    ("edit", Action::Update),
    ("change", Action::Update),
    ("move", Action::Update),
    ("mark", Action::Update),
    ("close", Action::Update),
    ("archive", Action::Update),
    ("rename", Action::Update),
    ("merge", Action::Update),
    ("tell", Action::Send),
    ("notify", Action::Send),
    ("announce", Action::Send),
    // "show details of" reads one.
    ("details", Action::Get),
    // "list open issues" lists; "open an issue" creates.
    ("list", Action::List),
    ("show", Action::List),
    ("create", Action::Create),
    ("new", Action::Create),
    ("open", Action::Create),
    ("add", Action::Create),
    ("schedule", Action::Create),
    ("book", Action::Create),
    ("write", Action::Create),
    ("publish", Action::Create),
    ("make", Action::Create),
    ("comment", Action::Create),
    ("react", Action::Create),
    ("invite", Action::Create),
    ("fetch", Action::List),
    ("latest", Action::List),
    ("recent", Action::List),
    ("upcoming", Action::List),
    ("all", Action::List),
    ("everyone", Action::List),
    ("what", Action::List),
    ("who", Action::List),
    ("get", Action::Get),
    ("read", Action::Get),
    ("view", Action::Get),
    ("check", Action::Get),
];

/// Words agents use and the words APIs document the same thing with.
const SYNONYMS: &[(&str, &str)] = &[
    ("email", "message mail"),
    ("emails", "messages mail"),
    ("mail", "email message"),
    ("inbox", "messages email"),
    ("unread", "messages label"),
    ("channel", "conversation"),
    ("channels", "conversations"),
    ("meeting", "event calendar"),
    ("meetings", "events calendar"),
    ("appointment", "event calendar"),
    ("ticket", "issue"),
    ("tickets", "issues"),
    ("bug", "issue"),
    ("sprint", "cycle"),
    ("repo", "repository"),
    ("repos", "repositories"),
    ("pr", "pull request"),
    ("prs", "pull requests"),
    ("emoji", "reaction"),
    ("react", "reaction"),
    ("thumbs", "reaction"),
    ("people", "members users"),
    ("who", "members user"),
    ("timezone", "setting"),
    ("zone", "setting timezone"),
    ("available", "free busy"),
    ("availability", "free busy"),
    ("free", "busy"),
    ("cancel", "delete"),
    ("row", "page"),
    ("rows", "pages"),
    ("archive", "labels"),
    ("newest", "new"),
    ("posts", "stories"),
    ("readme", "content file"),
    ("am", "authenticated"),
    ("find", "search"),
    ("recent", "history"),
    ("add", "create append invite"),
    ("restore", "untrash"),
    ("my", "user"),
    ("tell", "send message"),
    ("notify", "send message"),
    ("announce", "send message"),
    ("book", "create event"),
    ("call", "event meeting"),
    ("reacted", "reactions"),
];

/// An agent's query, understood.
#[derive(Debug)]
pub struct Intent {
    /// The query with synonyms added, for BM25.
    pub text: String,
    /// The action it asks for, when one of its words names one.
    pub action: Option<Action>,
}

/// `word` without a plural `s`, for matching names ("emails" names the
/// category "email"; "issues" covers the slug word "ISSUE").
pub fn stem(word: &str) -> &str {
    match word.strip_suffix('s') {
        Some(rest) if rest.len() > 2 && !rest.ends_with('s') => rest,
        _ => word,
    }
}

/// The lower-case words of `text` (letters and digits).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

impl Intent {
    /// Reads `query`.
    pub fn of(query: &str) -> Intent {
        let words = words(query);
        let mut text = query.to_owned();
        for word in &words {
            if let Some((_, more)) = SYNONYMS.iter().find(|(w, _)| w == word) {
                text.push(' ');
                text.push_str(more);
            }
        }
        // A query that starts with a medium ("email the report to ...",
        // "message the team") sends; otherwise its first action word counts.
        let sends = words
            .first()
            .is_some_and(|w| ["email", "message", "text", "ping", "dm"].contains(&w.as_str()));
        let action = if sends {
            Some(Action::Send)
        } else {
            ACTIONS
                .iter()
                .find(|(w, _)| words.iter().any(|word| word == w))
                .map(|(_, action)| *action)
        };
        Intent { text, action }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_read_for_their_action_and_synonyms() {
        let intent = Intent::of("Schedule a meeting tomorrow");
        assert_eq!(intent.action, Some(Action::Create));
        assert!(intent.text.contains("event"));
        assert_eq!(Intent::of("send the draft").action, Some(Action::Send));
        assert_eq!(Intent::of("list my drafts").action, Some(Action::List));
        assert_eq!(Intent::of("zzz").action, None);
        assert_eq!(Action::of_slug("GMAIL_LIST_MESSAGES"), Some(Action::List));
        assert_eq!(Action::of_slug("SLACK_AUTH_TEST"), None);
        assert!(Action::Create.fit(Action::Create) > Action::List.fit(Action::Create));
    }
}
