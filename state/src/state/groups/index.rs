//! The groups by id, and an index of when each next has a deadline.
//!
//! Every group request asks (a heartbeat moves a session deadline), and the timer task
//! asks, which groups are due and when the next deadline comes. Answering by asking every
//! group made each heartbeat cost time in proportion to the number of groups, under the
//! state lock: with 1,000 live groups that scan was what delayed other clients' requests.
//! Here every mutable access marks its group as touched, and only touched groups'
//! deadlines are computed again, at the next question, so a heartbeat costs the same with
//! one group or ten thousand.
//!
//! A group's next deadline is a function of the group alone (`Group::next_deadline`),
//! which is what makes the index sound: nothing changes a group except through `&mut`
//! access, and this type hands out none without marking the group.

use std::collections::{BTreeMap, BTreeSet};

use super::Group;

#[derive(Debug, Default)]
pub(super) struct GroupMap {
    groups: BTreeMap<String, Group>,
    /// Groups handed out mutably since the index was last brought up to date.
    touched: BTreeSet<String>,
    /// Each indexed group's deadline as last computed, and the same pairs by deadline.
    deadline_of: BTreeMap<String, i64>,
    by_deadline: BTreeSet<(i64, String)>,
}

impl GroupMap {
    pub fn get(&self, id: &str) -> Option<&Group> {
        self.groups.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Group> {
        let group = self.groups.get_mut(id)?;
        if !self.touched.contains(id) {
            self.touched.insert(id.to_string());
        }
        Some(group)
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.groups.contains_key(id)
    }

    /// The group `id`, made by `make` if there is none.
    pub fn get_or_insert_with(&mut self, id: &str, make: impl FnOnce() -> Group) -> &mut Group {
        if !self.touched.contains(id) {
            self.touched.insert(id.to_string());
        }
        self.groups.entry(id.to_string()).or_insert_with(make)
    }

    pub fn insert(&mut self, id: String, group: Group) {
        self.touched.insert(id.clone());
        self.groups.insert(id, group);
    }

    pub fn remove(&mut self, id: &str) -> Option<Group> {
        self.touched.remove(id);
        self.unindex(id);
        self.groups.remove(id)
    }

    /// In id order.
    pub fn values(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// Every group, marked as touched: for the rare passes over all of them (offset
    /// expiration, a deleted topic).
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Group> {
        self.touched.extend(self.groups.keys().cloned());
        self.groups.values_mut()
    }

    /// The groups whose deadline has passed by `now`, in id order.
    pub fn due(&mut self, now: i64) -> Vec<String> {
        self.refresh();
        let mut due: Vec<String> = self
            .by_deadline
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, id)| id.clone())
            .collect();
        due.sort();
        due
    }

    /// The earliest deadline of any group. Brings the index up to date first: asked after
    /// every group request, it must cost the touched group, not every group touched since
    /// the timer last ran (heartbeats do not wake it), which is all of them when 1,000
    /// groups heartbeat.
    pub fn next_deadline(&mut self) -> Option<i64> {
        self.refresh();
        self.by_deadline.first().map(|(at, _)| *at)
    }

    /// How many groups wait for their deadline to be computed again.
    #[cfg(test)]
    pub fn touched_since_refresh(&self) -> usize {
        self.touched.len()
    }

    /// Computes the touched groups' deadlines again.
    fn refresh(&mut self) {
        for id in std::mem::take(&mut self.touched) {
            self.unindex(&id);
            if let Some(at) = self.groups.get(&id).and_then(Group::next_deadline) {
                self.by_deadline.insert((at, id.clone()));
                self.deadline_of.insert(id, at);
            }
        }
    }

    fn unindex(&mut self, id: &str) {
        if let Some(at) = self.deadline_of.remove(id) {
            self.by_deadline.remove(&(at, id.to_string()));
        }
    }
}
