'use strict';
// What the Node suites share: the deadline of every wait, names no other test (or an
// earlier run against the same cluster) uses, and the Watch that tests await conditions
// on instead of sleeping.

const DEADLINE_MS = 30000;

/** `unique(prefix)(testName, kind)`: a fresh topic, group or subject name. */
function unique(prefix) {
  const run = Math.random().toString(16).slice(2, 8);
  let counter = 0;
  return (testName, kind) => `${prefix}.${testName}.${kind}.${run}.${counter++}`;
}

/**
 * Consumers report what they see with `notify()`; `until(condition, what)` resolves once
 * the condition holds (re-checked on every report) or rejects after DEADLINE_MS, saying
 * what it waited for and the state it saw.
 */
class Watch {
  constructor() {
    this.checks = new Set();
  }

  notify() {
    for (const check of [...this.checks]) check();
  }

  until(condition, what, state = () => '') {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.checks.delete(check);
        reject(new Error(`timed out after ${DEADLINE_MS} ms waiting for ${what}; saw ${state()}`));
      }, DEADLINE_MS);
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.checks.delete(check);
        resolve();
      };
      this.checks.add(check);
      check();
    });
  }
}

module.exports = { DEADLINE_MS, Watch, unique };
