#!/usr/bin/env node
// icaljs_expand.js - the second, independent iCalendar oracle of the feed and
// import tests: Mozilla's ical.js (npm `ical.js`) parses a file and expands
// every VEVENT over a window, with RECURRENCE-ID exceptions related to their
// master, exactly as a client built on ical.js (Thunderbird, many web
// calendars) would show it.
//
//   node icaljs_expand.js FILE.ics FROM TO      (FROM/TO: YYYY-MM-DD, UTC days, TO exclusive)
//
// Prints one JSON object: {"calendar": {"name", "method", "tzids": [...]},
// "occurrences": [{"uid", "recurrence_id", "start", "end", "start_utc", "end_utc",
// "all_day", "tzid", "summary", "status", "exception"}]}. Exits 2 with a message
// on stderr when ical.js is missing or refuses the file: the caller fails on that.
'use strict';

const fs = require('fs');
const path = require('path');

function loadIcal() {
  // Where `npm install --prefix tests/e2e ical.js` puts it, then the usual lookup,
  // then $ICALJS_DIR (a folder holding node_modules/ical.js) for other layouts.
  const candidates = [path.join(__dirname, 'node_modules', 'ical.js'), 'ical.js'];
  if (process.env.ICALJS_DIR) {
    candidates.unshift(path.join(process.env.ICALJS_DIR, 'node_modules', 'ical.js'));
  }
  for (const c of candidates) {
    try {
      const mod = require(c);
      // The CommonJS build of ical.js 2 exports the library as `default`.
      return mod && mod.default && mod.default.parse ? mod.default : mod;
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  process.stderr.write('icaljs_expand: the npm package ical.js is not installed ' +
                       '(npm install --no-save --no-package-lock --prefix tests/e2e ical.js@2)\n');
  process.exit(2);
}

const ICAL = loadIcal();

function fail(msg) {
  process.stderr.write('icaljs_expand: ' + msg + '\n');
  process.exit(2);
}

function pad(n) {
  return String(n).padStart(2, '0');
}

// The wall-clock text of a Time in its own zone (a date for all-day values).
function localText(t) {
  const d = t.year + '-' + pad(t.month) + '-' + pad(t.day);
  if (t.isDate) return d;
  return d + 'T' + pad(t.hour) + ':' + pad(t.minute) + ':' + pad(t.second);
}

function utcText(t) {
  if (t.isDate) return null;
  return new Date(t.toUnixTime() * 1000).toISOString().replace('.000Z', 'Z');
}

function main() {
  const [file, from, to] = process.argv.slice(2);
  if (!file || !from || !to) fail('usage: icaljs_expand.js FILE.ics FROM TO');
  const text = fs.readFileSync(file, 'utf8');
  let root;
  try {
    root = new ICAL.Component(ICAL.parse(text));
  } catch (e) {
    fail('ical.js cannot parse ' + file + ': ' + e.message);
  }
  if (root.name !== 'vcalendar') fail('the top component is ' + root.name);

  const tzids = [];
  for (const vtz of root.getAllSubcomponents('vtimezone')) {
    const tz = new ICAL.Timezone(vtz);
    tzids.push(tz.tzid);
    ICAL.TimezoneService.register(tz, tz.tzid);
  }

  const windowStart = ICAL.Time.fromDateTimeString(from + 'T00:00:00Z');
  const windowEnd = ICAL.Time.fromDateTimeString(to + 'T00:00:00Z');
  const startUnix = windowStart.toUnixTime();
  const endUnix = windowEnd.toUnixTime();

  // Masters and their exceptions by UID (exceptions may come before or after a master).
  const masters = new Map();
  const exceptions = new Map();
  for (const comp of root.getAllSubcomponents('vevent')) {
    const uid = comp.getFirstPropertyValue('uid');
    if (!uid) fail('a VEVENT has no UID');
    if (comp.hasProperty('recurrence-id')) {
      if (!exceptions.has(uid)) exceptions.set(uid, []);
      exceptions.get(uid).push(comp);
    } else {
      if (masters.has(uid)) fail('two master VEVENTs share UID ' + uid);
      masters.set(uid, comp);
    }
  }

  const out = [];
  function overlaps(s, e) {
    if (s.isDate) {
      // All-day values are floating dates: compare them as days.
      const sd = localText(s), ed = localText(e);
      return sd < to && ed > from;
    }
    return s.toUnixTime() < endUnix && e.toUnixTime() > startUnix;
  }
  function emit(uid, rid, item, s, e, isException) {
    if (!overlaps(s, e)) return;
    const zone = s.zone && s.zone.tzid && s.zone.tzid !== 'floating' ? s.zone.tzid : null;
    out.push({
      uid: uid,
      recurrence_id: rid ? localText(rid) : null,
      start: localText(s),
      end: localText(e),
      start_utc: utcText(s),
      end_utc: utcText(e),
      all_day: !!s.isDate,
      tzid: s.isDate ? null : zone,
      summary: item.summary,
      status: item.component.getFirstPropertyValue('status') || null,
      exception: isException,
    });
  }

  for (const [uid, comp] of masters) {
    const event = new ICAL.Event(comp, {exceptions: exceptions.get(uid) || [],
                                        strictExceptions: true});
    if (!event.isRecurring()) {
      emit(uid, null, event, event.startDate, event.endDate, false);
      continue;
    }
    const it = event.iterator();
    let next, guard = 0;
    while ((next = it.next())) {
      if (++guard > 20000) fail('runaway expansion of ' + uid);
      const details = event.getOccurrenceDetails(next);
      // Exceptions may move an occurrence anywhere: stop only well past the window.
      if (next.toUnixTime() > endUnix + 400 * 86400) break;
      emit(uid, next, details.item, details.startDate, details.endDate,
           details.item !== event);
    }
  }
  for (const uid of exceptions.keys()) {
    if (!masters.has(uid)) fail('RECURRENCE-ID component without a master: ' + uid);
  }
  out.sort((a, b) => (a.start_utc || a.start).localeCompare(b.start_utc || b.start) ||
                     a.uid.localeCompare(b.uid));
  const result = {
    calendar: {
      name: root.getFirstPropertyValue('x-wr-calname'),
      method: root.getFirstPropertyValue('method'),
      tzids: tzids,
    },
    occurrences: out,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

main();
