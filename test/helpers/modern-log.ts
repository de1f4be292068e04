// A deterministic, realistic Open edX tracking log of the 2016-2024 kind (docs/decisions.md §1):
// course-v1 ids; contexts with org_id, path, user_id, course_user_tags and module; implicit URL
// events whose {GET, POST} text the middleware cut at 512 characters; browser events with a JSON
// text `event`; mobile events; server events of the newer families; and the line variants real
// logs hold (a Tutor logger prefix, ensure_ascii off, IPv6, `Z` times, whole seconds, cut lines).
// Everything is invented: hosts, courses, learners, addresses. The same seed gives the same lines.

export type Rec = Record<string, unknown>;

export interface ModernLine {
  /** The line as written to the log (no newline). */
  text: string;
  /** What the line is, e.g. `server.problem_check`, `mobile.video`, `implicit.courseware`. */
  kind: string;
  /** The event before it was written. */
  record: Rec;
  /** The line was cut off (a broken line). */
  truncated: boolean;
  /** An implicit event whose {GET, POST} text was cut at 512 characters (not JSON any more). */
  eventCut: boolean;
  /** Written after a Tutor/Django logger prefix. */
  prefixed: boolean;
  /**
   * The course the line names somewhere (context, payload, a usage key, its URL; issue 16.1), '' when
   * it names none: what its course_id should be.
   */
  course: string;
}

/** mulberry32: small, fast, and the same numbers on every platform. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  /** One of the values, in proportion to its weight. */
  weighted<T>(entries: readonly (readonly [number, T])[]): T {
    let x = this.next() * entries.reduce((s, [w]) => s + w, 0);
    for (const [w, v] of entries) if ((x -= w) < 0) return v;
    return entries[entries.length - 1][1];
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(this.next() * 16)];
    return s;
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${this.pick(['8', '9', 'a', 'b'])}${this.hex(3)}-${this.hex(12)}`;
  }
  /** A float with a few decimals, as players report positions. */
  float(lo: number, hi: number, decimals = 3): number {
    return Number((lo + this.next() * (hi - lo)).toFixed(decimals));
  }
}

/** json.dumps as the LMS writes it: `, ` and `: ` separators; non-ASCII as \uXXXX unless asciiOnly is off. */
export function pyJson(v: unknown, asciiOnly = true): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') {
    const s = JSON.stringify(v);
    return asciiOnly ? s.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : s;
  }
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => pyJson(x, asciiOnly)).join(', ')}]`;
  return `{${Object.entries(v).map(([k, x]) => `${pyJson(k, asciiOnly)}: ${pyJson(x, asciiOnly)}`).join(', ')}}`;
}

const HOST = 'lms.example.edu';
const MFE = 'https://apps.example.edu/learning';
const STUDIO = 'studio.example.edu';
const DAY = Date.UTC(2023, 9, 17); // a Tuesday in fall2023
/** Server events from eventtracking (with `name`) and the legacy server_track events differ in key order. */
const EMIT_ORDER = ['name', 'context', 'username', 'session', 'ip', 'agent', 'host', 'referer', 'accept_language', 'event', 'time', 'event_type', 'event_source', 'page'];
const LEGACY_ORDER = ['username', 'event_type', 'ip', 'agent', 'host', 'referer', 'accept_language', 'event', 'event_source', 'context', 'time', 'page', 'session', 'name'];

interface Block {
  type: string;
  hex: string;
  key: string;
  name: string;
}

interface Input {
  id: string;
  response: 'multiplechoiceresponse' | 'choiceresponse' | 'numericalresponse' | 'stringresponse';
  question: string;
}

interface Problem extends Block {
  inputs: Input[];
}

interface Course {
  id: string;
  org: string;
  legacy: boolean;
  chapters: Block[];
  sequentials: Block[];
  verticals: Block[];
  problems: Problem[];
  videos: Block[];
  oras: Block[];
  topics: { id: string; name: string }[];
  /** An A/B partition some learners are put in. */
  partition?: { id: number; name: string; groups: string[] };
}

interface User {
  name: string;
  id: number;
  ip: string;
  agent: string;
  mobileAgent?: string;
  session: string;
  lang: string;
  courses: Course[];
  /** group per course id, once assigned to the course's partition */
  groups: Map<string, number>;
  /** This learner's log lines are written with ensure_ascii off (a newer emitter). */
  rawUtf8: boolean;
}

const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:118.0) Gecko/20100101 Firefox/118.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Safari/537.36 Edg/117.0.2045.60',
];
const MOBILE_AGENTS = [
  'edX/org.edx.mobile (4.0.2; OS Version 16.6 (Build 20G75))',
  'Dalvik/2.1.0 (Linux; U; Android 13; Pixel 6a Build/TQ3A.230901.001) edX/org.edx.mobile/3.3.1',
];
const LANGS = ['en-US,en;q=0.9', 'es-ES,es;q=0.9,en;q=0.8', 'zh-CN,zh;q=0.9', 'de-DE,de;q=0.9,en;q=0.7', 'pt-BR,pt;q=0.9', ''];
const SYLLABLES = ['ka', 'lo', 'mi', 'ren', 'to', 'sa', 'vin', 'el', 'dor', 'wen', 'bri', 'ul', 'na', 'zo'];
/** Usernames Open edX accepts with ENABLE_UNICODE_USERNAME, invented. */
const UNICODE_NAMES = ['zoë_learns', 'ñandú_fan', '学习者_07', 'studentin_jürgen', 'çağrı_ogrenci', 'Ωmega_42', '学び舎_太郎'];
/** Forum and essay text with emoji, CJK and accents (invented). */
const RICH_TEXT = [
  'Great explanation 👍 thanks!',
  '我觉得第二题的答案应该是 B，因为…',
  'Pourquoi la dérivée est-elle nulle ici ? 🤔',
  'Das Beispiel mit der Übergangsmatrix war sehr hilfreich 🎉',
  'ありがとうございます！とても分かりやすかったです 🙏',
  'Can someone explain step 3? I got 0.75 instead of 0.8 😅',
];
const PLAIN_TEXT = [
  'I think the key idea is that the sample mean is itself a random variable.',
  'Does anyone know when the graded assignment for week 2 is due?',
  'The video at 4:32 says the opposite of the reading, which one is right?',
  'My solution used a dictionary instead of a list and ran much faster.',
];

function blockKey(org: string, number: string, run: string, legacy: boolean, type: string, hex: string): string {
  return legacy ? `i4x://${org}/${number}/${type}/${hex}` : `block-v1:${org}+${number}+${run}+type@${type}+block@${hex}`;
}

function makeCourse(rnd: Random, org: string, number: string, run: string, legacy: boolean, names: string[]): Course {
  const id = legacy ? `${org}/${number}/${run}` : `course-v1:${org}+${number}+${run}`;
  const block = (type: string, name: string): Block => {
    const hex = rnd.hex(32);
    return { type, hex, key: blockKey(org, number, run, legacy, type, hex), name };
  };
  const named = (prefix: string, i: number) => names[i % names.length].replace('#', String(i + 1)).replace('@', prefix);
  const responses: Input['response'][] = ['multiplechoiceresponse', 'choiceresponse', 'numericalresponse', 'stringresponse'];
  const problems: Problem[] = Array.from({ length: 10 }, (_, i) => {
    const b = block('problem', named('Problem', i));
    const inputId = legacy ? `i4x-${org}-${number}-problem-${b.hex}` : b.hex;
    const inputs = Array.from({ length: rnd.int(1, 3) }, (_, j): Input => ({
      id: `${inputId}_${j + 2}_1`,
      response: rnd.pick(responses),
      question: rnd.pick(['Which statement is true?', 'What is the value of x?', 'Name the process.', 'Select all that apply.']),
    }));
    return { ...b, inputs };
  });
  return {
    id,
    org,
    legacy,
    chapters: Array.from({ length: 4 }, (_, i) => block('chapter', named('Week', i))),
    sequentials: Array.from({ length: 8 }, (_, i) => block('sequential', named('Lesson', i))),
    verticals: Array.from({ length: 16 }, (_, i) => block('vertical', named('Unit', i))),
    problems,
    videos: Array.from({ length: 6 }, (_, i) => block('video', named('Video', i))),
    oras: Array.from({ length: 2 }, (_, i) => block('openassessment', named('Essay', i))),
    topics: [
      { id: 'course', name: 'General' },
      { id: rnd.hex(32), name: names[0].replace('#', '1').replace('@', 'Discussion') },
      { id: `i4x-${org}-${number}-course-${run}`, name: 'Course Q&A' },
    ],
  };
}

/** The log: `visits` visits of learners, each a few to a few dozen lines. */
export function modernLog(opts: { seed?: number; visits?: number } = {}): ModernLine[] {
  const rnd = new Random(opts.seed ?? 2023);
  const courses = [
    makeCourse(rnd, 'ExampleU', 'CS101', '2023_T3', false, ['@ #: Getting started', '@ #: Variables and types', '@ #: Loops', '@ #: Functions']),
    makeCourse(rnd, 'ExampleU', 'DATA200', '2023_Fall', false, ['@ #: Sampling', '@ #: Estimation', '@ #: Regression', '@ #: Review']),
    makeCourse(rnd, 'OpenLearnX', 'HIST110', 'self_paced', false, ['Lección #: Orígenes', '第#章 古代文明', 'Übung # — Quellen 🏛️', 'Quiz # ✅']),
    makeCourse(rnd, 'DemoX', 'Demo_Course', 'Demo', false, ['@ #', '@ # (optional)']),
    makeCourse(rnd, 'ExampleU', 'PHYS50', '2015_Fall', true, ['@ #: Kinematics', '@ #: Forces']),
  ];
  courses[0].partition = { id: 50, name: 'Video before text', groups: ['Control', 'Video first'] };
  courses[1].partition = { id: 1717, name: 'Hints experiment', groups: ['No hints', 'Hints'] };

  const users: User[] = Array.from({ length: 420 }, (_, i) => {
    const name = i % 40 === 7 ? UNICODE_NAMES[Math.floor(i / 40) % UNICODE_NAMES.length]
      : `${rnd.pick(SYLLABLES)}${rnd.pick(SYLLABLES)}${rnd.chance(0.5) ? '_' : ''}${rnd.pick(SYLLABLES)}${rnd.int(1, 999)}`;
    const ipv6 = rnd.chance(0.12);
    const ip = ipv6
      ? `${rnd.pick(['2a02:8', '2a01:c', '2600:1', '2804:1', '240e:3'])}${rnd.hex(2)}:${rnd.hex(4)}:${rnd.hex(3)}::${rnd.hex(3)}`
      : `${rnd.pick([24, 37, 41, 62, 73, 81, 95, 102, 117, 151, 177, 186, 190, 203])}.${rnd.int(0, 255)}.${rnd.int(0, 255)}.${rnd.int(1, 254)}`;
    const n = rnd.weighted([[6, 1], [3, 2], [1, 3]] as const);
    const mine = [...courses].sort(() => rnd.next() - 0.5).slice(0, n);
    // Some learners were put in an experiment group on an earlier day: their events carry course_user_tags.
    const groups = new Map<string, number>();
    for (const c of mine) if (c.partition && rnd.chance(0.3)) groups.set(c.id, rnd.int(0, c.partition.groups.length - 1));
    return {
      name,
      id: 1000 + i * 7,
      ip,
      agent: rnd.pick(BROWSERS),
      mobileAgent: rnd.chance(0.25) ? rnd.pick(MOBILE_AGENTS) : undefined,
      session: rnd.hex(32),
      lang: rnd.pick(LANGS),
      courses: mine,
      groups,
      rawUtf8: rnd.chance(0.15),
    };
  });

  interface Pending {
    record: Rec;
    kind: string;
    order: string[];
    /** The time the line was written (mobile events arrive later than they happened). */
    written: number;
    rawUtf8: boolean;
    eventCut: boolean;
    course: string;
  }
  const pending: Pending[] = [];

  /** ISO time as the LMS writes it, with the variants other emitters produce. */
  const isoTime = (us: number): string => {
    const d = new Date(Math.floor(us / 1000));
    const base = d.toISOString().slice(0, 19);
    const micros = String(us % 1_000_000).padStart(6, '0');
    const form = rnd.weighted([[95, 'lms'], [3, 'Z'], [2, 'whole']] as const);
    // Python's isoformat() leaves out a zero fraction; some shippers write `Z`.
    return form === 'whole' ? `${base}+00:00` : form === 'Z' ? `${base}.${micros}Z` : `${base}.${micros}+00:00`;
  };

  for (let v = 0; v < (opts.visits ?? 800); v++) {
    const u = rnd.pick(users);
    const c = rnd.pick(u.courses);
    let now = DAY * 1000 + rnd.int(0, 22 * 3600) * 1_000_000 + rnd.int(0, 999_999);
    const step = (lo = 1, hi = 40) => (now += rnd.int(lo * 1_000_000, hi * 1_000_000));
    const seq = rnd.pick(c.sequentials);
    const vertical = rnd.pick(c.verticals);
    const courseUrl = `/courses/${c.id}`;
    const page = rnd.chance(0.6)
      ? `${MFE}/course/${c.id}/${seq.key}/${vertical.key}`
      : `https://${HOST}${courseUrl}/courseware/${rnd.pick(c.chapters).hex}/${seq.hex}/${rnd.int(1, 6)}`;
    const anonymous = rnd.chance(0.02); // logged out: username and user_id blank
    const username = anonymous ? '' : u.name;

    const tags = (): Rec | undefined => {
      const g = u.groups.get(c.id);
      if (g !== undefined && c.partition) return { [`xblock.partition_service.partition_${c.partition.id}`]: String(g) };
      return rnd.chance(0.5) ? {} : undefined; // usually present and empty on course pages
    };
    const context = (path: string, module?: Block): Rec => {
      const ctx: Rec = {};
      const t = tags();
      if (t) ctx.course_user_tags = t;
      ctx.user_id = anonymous ? '' : u.id;
      ctx.org_id = c.org;
      ctx.course_id = c.id;
      ctx.path = path;
      if (rnd.chance(0.3)) ctx.enterprise_uuid = '';
      if (module) ctx.module = { display_name: module.name, usage_key: module.key };
      return ctx;
    };
    const push = (kind: string, record: Rec, order = EMIT_ORDER, written = now, eventCut = false, course = c.id) =>
      pending.push({ record, kind, order, written, rawUtf8: u.rawUtf8, eventCut, course });

    /** A request the tracking middleware logged: the URL is the type, {GET, POST} as JSON text cut at 512. */
    const implicit = (kind: string, path: string, post: Rec = {}, get: Rec = {}, ctx: Rec = context(path), course = c.id, host = HOST, referer = page) => {
      step(1, 20);
      const full = pyJson({ GET: get, POST: post });
      push(kind, {
        username, event_type: path, ip: u.ip, agent: u.agent, host, referer, accept_language: u.lang,
        event: full.slice(0, 512), event_source: 'server', context: ctx, time: isoTime(now), page: null,
      }, LEGACY_ORDER, now, full.length > 512, course);
    };
    /** A browser event: the JS data arrives as JSON text (compact from the browser, or re-dumped by the LMS). */
    const browser = (kind: string, type: string, data: unknown) => {
      step(1, 30);
      const event = typeof data === 'string' ? data : rnd.chance(0.5) ? JSON.stringify(data) : pyJson(data);
      const rec: Rec = {
        context: context('/event'), username, session: u.session, ip: u.ip, agent: u.agent, host: HOST,
        referer: page, accept_language: u.lang, event, time: isoTime(now), event_type: type, event_source: 'browser', page,
      };
      if (rnd.chance(0.7)) rec.name = type; // newer releases add name to browser events too
      push(kind, rec);
    };
    /** A server event emitted with a name: both name and event_type, an object event. */
    /**
     * A server event emitted with a name: both name and event_type, an object event. `courseInContext`
     * false: the context has course_id '' (API views, Studio, grading tasks: the course is elsewhere).
     */
    const server = (kind: string, name: string, event: Rec, path: string, module?: Block, source = 'server',
      opts: { courseInContext?: boolean; referer?: string; course?: string } = {}) => {
      step(0, 3);
      const ctx = context(path, module);
      if (opts.courseInContext === false) Object.assign(ctx, { course_id: '', org_id: '' });
      push(kind, {
        name, context: ctx, username, session: u.session, ip: u.ip, agent: u.agent, host: HOST,
        referer: opts.referer ?? page, accept_language: u.lang, event, time: isoTime(now), event_type: name, event_source: source, page: null,
      }, EMIT_ORDER, now, false, opts.course ?? c.id);
    };

    const problemAnswers = (p: Problem) => {
      const answers: Rec = {};
      for (const input of p.inputs) {
        switch (input.response) {
          case 'multiplechoiceresponse': answers[input.id] = `choice_${rnd.int(0, 3)}`; break;
          case 'choiceresponse': answers[input.id] = ['choice_0', 'choice_1', 'choice_2', 'choice_3'].filter(() => rnd.chance(0.5)).concat('choice_3').slice(-3); break;
          case 'numericalresponse': answers[input.id] = String(rnd.float(0, 10, 2)); break;
          case 'stringresponse': answers[input.id] = rnd.pick(['photosynthesis', 'Photosynthesis ', 'mitochondria', 'la fotosíntesis']); break;
        }
      }
      return answers;
    };

    const scenario = rnd.weighted([
      [28, 'browse'], [20, 'video'], [18, 'problem'], [8, 'mobile'], [8, 'forum'], [6, 'ora'],
      [5, 'enroll'], [3, 'experiment'], [5, 'staff'], [6, 'studio'], [3, 'app'],
    ] as const);

    // Most visits start on a courseware page (the LMS) or the learning MFE's API calls.
    if (scenario !== 'mobile' && scenario !== 'studio' && scenario !== 'app') {
      if (page.startsWith(MFE)) {
        implicit('implicit.api', `/api/courseware/course/${c.id}`, {}, { browser_timezone: ['Europe/Berlin'] });
        implicit('implicit.api', `/api/courseware/sequence/${seq.key}`);
      } else {
        implicit('implicit.courseware', `${courseUrl}/courseware/${rnd.pick(c.chapters).hex}/${seq.hex}/`);
      }
    }

    switch (scenario) {
      case 'browse': {
        for (let i = 0, n = rnd.int(1, 6); i < n; i++) {
          const tab = rnd.int(1, 6);
          const move = rnd.weighted([[3, 'seq_goto'], [4, 'seq_next'], [2, 'seq_prev'], [3, 'edx.ui.lms.sequence.next_selected'],
            [2, 'edx.ui.lms.sequence.tab_selected'], [2, 'edx.ui.lms.outline.selected'], [1, 'edx.ui.lms.link_clicked'],
            [1, 'edx.ui.lms.jump_nav.selected']] as const);
          if (move.startsWith('seq_')) {
            browser('browser.seq', move, { old: tab, new: move === 'seq_prev' ? tab - 1 : tab + 1, id: seq.key, current_tab: tab, tab_count: 6, widget_placement: 'top' });
          } else if (move === 'edx.ui.lms.outline.selected' || move === 'edx.ui.lms.jump_nav.selected') {
            const target = rnd.pick(c.sequentials);
            browser('browser.lms_nav', move, { target_name: target.name, target_url: `https://${HOST}/courses/${c.id}/jump_to/${target.key}`, widget_placement: 'accordion' });
          } else if (move === 'edx.ui.lms.link_clicked') {
            browser('browser.lms_nav', move, { current_url: page, target_url: `https://${HOST}/courses/${c.id}/progress` });
          } else {
            browser('browser.lms_nav', move, { current_tab: tab, tab_count: 6, target_tab: tab + 1, id: seq.key, widget_placement: 'top' });
          }
          implicit('implicit.xblock', `${courseUrl}/xblock/${seq.key}/handler/xmodule_handler/goto_position`, { position: [String(tab + 1)] });
          if (rnd.chance(0.4)) implicit('implicit.xblock', `${courseUrl}/xblock/${vertical.key}/handler/publish_completion`);
        }
        if (rnd.chance(0.15)) {
          const bookmarkType = rnd.pick(['edx.bookmark.added', 'edx.bookmark.removed'] as const);
          server('server.bookmark', bookmarkType, { course_id: c.id, bookmark_id: `${u.name},${vertical.key}`, component_type: 'vertical', component_usage_id: vertical.key }, '/api/bookmarks/v1/bookmarks/', undefined, 'server', { courseInContext: false });
        }
        if (rnd.chance(0.1)) server('server.bookmark', 'edx.bookmark.listed', { course_id: c.id, list_type: 'per_course', bookmarks_count: rnd.int(0, 9), page_size: 10, page_number: 1 }, '/api/bookmarks/v1/bookmarks/', undefined, 'server', { courseInContext: false });
        if (rnd.chance(0.15)) browser('browser.done', 'edx.done.toggled', { done: rnd.chance(0.8) });
        if (rnd.chance(0.2)) implicit('implicit.page', `${courseUrl}/progress`);
        if (rnd.chance(0.15)) implicit('implicit.page', '/dashboard', {}, {}, { ...context('/dashboard'), course_id: '', org_id: '' }, '');
        if (rnd.chance(0.05)) implicit('implicit.about', `${courseUrl}/about`);
        // Django decodes PATH_INFO: wiki article names arrive with their accents.
        if (rnd.chance(0.04)) implicit('implicit.wiki', `${courseUrl}/wiki/${c.id.split(/[+/]/)[1]}/${rnd.pick(['übungen', 'glosario-de-términos', 'week-2-notes'])}/`);
        if (rnd.chance(0.5)) browser('browser.page_close', 'page_close', '');
        break;
      }
      case 'video': {
        const video = rnd.pick(c.videos);
        const code = rnd.chance(0.7) ? 'html5' : rnd.hex(11);
        const duration = rnd.float(180, 900, 2);
        let position = rnd.chance(0.5) ? 0 : rnd.float(0, duration / 2);
        const vdata = (extra: Rec = {}) => ({ id: video.hex, code, currentTime: position, duration, ...extra });
        browser('browser.video', 'load_video', { id: video.hex, code, duration });
        for (let i = 0, n = rnd.int(1, 5); i < n; i++) {
          browser('browser.video', 'play_video', vdata());
          position = Number(Math.min(duration, position + rnd.float(5, 120)).toFixed(3));
          const what = rnd.weighted([[5, 'pause'], [3, 'seek'], [2, 'speed'], [1, 'transcript'], [1, 'cc']] as const);
          if (what === 'pause') browser('browser.video', 'pause_video', vdata());
          if (what === 'seek') {
            const to = rnd.float(0, duration);
            browser('browser.video', 'seek_video', { id: video.hex, code, old_time: position, new_time: to, type: rnd.pick(['onSlideSeek', 'onSkipSeek']), duration });
            position = to;
          }
          if (what === 'speed') browser('browser.video', 'speed_change_video', { id: video.hex, code, current_time: position, old_speed: '1.0', new_speed: rnd.pick(['1.25', '1.50', '2.0', '0.75']), duration });
          if (what === 'transcript') browser('browser.video', rnd.pick(['show_transcript', 'hide_transcript']), vdata());
          if (what === 'cc') browser('browser.video', rnd.pick(['edx.video.closed_captions.shown', 'edx.video.closed_captions.hidden']), vdata());
          implicit('implicit.xblock', `${courseUrl}/xblock/${video.key}/handler/xmodule_handler/save_user_state`, { saved_video_position: [new Date(position * 1000).toISOString().slice(11, 19)] });
        }
        if (rnd.chance(0.3)) browser('browser.video', 'complete_video', vdata());
        else if (rnd.chance(0.3)) browser('browser.video', 'stop_video', vdata());
        break;
      }
      case 'mobile': {
        if (!u.mobileAgent) u.mobileAgent = rnd.pick(MOBILE_AGENTS);
        const video = rnd.pick(c.videos);
        const offline = rnd.chance(0.25); // watched offline, synced now: time well before received_at
        const received = now;
        if (offline) now -= rnd.int(2 * 3600, 60 * 3600) * 1_000_000;
        let position = rnd.float(0, 200);
        const app = u.mobileAgent.includes('Android') ? { name: 'edx.mobileapp.android', version: '3.3.1' } : { name: 'edx.mobileapp.iOS', version: '4.0.2' };
        const mobile = (name: string, legacy: string, event: Rec) => {
          step(2, 60);
          push('mobile.video', {
            name,
            context: {
              user_id: u.id, org_id: c.org, course_id: c.id, path: '/segmentio/event', application: app,
              client: { library: { name: 'analytics-android', version: '3.4.0' }, network: { wifi: !offline, carrier: 'ExampleTel' }, os: { name: app.name.endsWith('android') ? 'Android' : 'iOS' }, timezone: 'America/Bogota' },
              component: 'videoplayer', received_at: isoTime(Math.max(received, now) + rnd.int(1, 9) * 100_000),
              open_in_browser_url: `https://${HOST}/courses/${c.id}/jump_to/${video.key}`,
            },
            username: u.name, session: '', ip: '', agent: u.mobileAgent, host: HOST, referer: '', accept_language: '',
            event, time: isoTime(now), event_type: legacy, event_source: 'mobile', page: null,
          }, EMIT_ORDER, Math.max(received, now));
        };
        const v = (extra: Rec = {}) => ({ currentTime: position, code: 'mobile', id: video.key, ...extra });
        mobile('edx.video.loaded', 'load_video', v());
        for (let i = 0, n = rnd.int(1, 4); i < n; i++) {
          mobile('edx.video.played', 'play_video', v());
          position = rnd.float(position, position + 300);
          const what = rnd.weighted([[5, 'pause'], [2, 'seek'], [1, 'transcript']] as const);
          if (what === 'pause') mobile('edx.video.paused', 'pause_video', v());
          if (what === 'seek') {
            const to = rnd.float(0, 600);
            mobile('edx.video.position.changed', 'seek_video', { old_time: position, new_time: to, type: 'slide', code: 'mobile', id: video.key });
            position = to;
          }
          if (what === 'transcript') mobile('edx.video.transcript.shown', 'show_transcript', v({ language: 'en' }));
        }
        mobile('edx.video.stopped', 'stop_video', v());
        break;
      }
      case 'problem': {
        const p = rnd.pick(c.problems);
        const path = `${courseUrl}/xblock/${p.key}/handler/xmodule_handler/problem_check`;
        implicit('implicit.xblock', `${courseUrl}/xblock/${p.key}/handler/xmodule_handler/problem_get`);
        let attempts = 0;
        for (let i = 0, n = rnd.int(1, 3); i < n; i++) {
          attempts++;
          const answers = problemAnswers(p);
          // The browser sends the form serialized (checkbox inputs end with []); the LMS logs the POST, then grades.
          const query = Object.entries(answers).flatMap(([k, a]) => (Array.isArray(a) ? a.map((x) => `input_${k}%5B%5D=${x}`) : [`input_${k}=${encodeURIComponent(String(a))}`])).join('&');
          browser('browser.problem_check', 'problem_check', query);
          const post = Object.fromEntries(Object.entries(answers).map(([k, a]) => (Array.isArray(a) ? [`input_${k}[]`, a] : [`input_${k}`, [a]])));
          implicit('implicit.problem_check', path, post);
          const correct = Object.fromEntries(p.inputs.map((inp) => [inp.id, rnd.chance(0.6)]));
          const correctMap = Object.fromEntries(p.inputs.map((inp) => [inp.id, {
            answervariable: null, correctness: correct[inp.id] ? 'correct' : 'incorrect', hint: '', hintmode: null,
            msg: rnd.chance(0.1) ? '<p>¡Casi! Revisa el paso 2.</p>' : '', npoints: null, queuestate: null,
          }]));
          const grade = Object.values(correct).filter(Boolean).length;
          const submission = Object.fromEntries(p.inputs.map((inp) => [inp.id, {
            answer: Array.isArray(answers[inp.id]) ? answers[inp.id] : String(answers[inp.id]), correct: correct[inp.id],
            input_type: inp.response === 'choiceresponse' ? 'checkboxgroup' : inp.response === 'multiplechoiceresponse' ? 'choicegroup' : 'textline',
            question: inp.question, response_type: inp.response, variant: '',
          }]));
          const seed = rnd.chance(0.7) ? 1 : rnd.int(0, 999); // rerandomized problems have seeds above TINYINT
          const state = {
            correct_map: attempts > 1 ? correctMap : {}, done: attempts > 1 ? true : null,
            input_state: Object.fromEntries(p.inputs.map((inp) => [inp.id, {}])), seed,
            student_answers: attempts > 1 ? answers : {},
          };
          server('server.problem_check', 'problem_check', {
            answers, attempts, correct_map: correctMap, grade, max_grade: p.inputs.length, problem_id: p.key, state,
            submission, success: grade === p.inputs.length ? 'correct' : 'incorrect',
          }, path, p);
          server('server.grades_submitted', 'edx.grades.problem.submitted', {
            user_id: String(u.id), course_id: c.id, problem_id: p.key, event_transaction_id: rnd.uuid(),
            event_transaction_type: 'edx.grades.problem.submitted', weighted_earned: grade, weighted_possible: p.inputs.length,
          }, path, p);
          if (rnd.chance(0.5)) {
            server('server.problem_completed', 'edx.problem.completed', { problem_id: p.key, user_id: u.id, completed: true, grade, max_grade: p.inputs.length }, path, p);
          }
          if (rnd.chance(0.4)) {
            const html = p.inputs.map((inp) => `<div class="${correct[inp.id] ? 'correct' : 'incorrect'}"><input type="text" aria-describedby="status_${inp.id}" /><span class="status ${correct[inp.id] ? 'correct' : 'incorrect'}" id="status_${inp.id}" aria-describedby="input_${inp.id}"><span class="sr">${correct[inp.id] ? 'correct' : 'incorrect'}</span></span></div>`).join('');
            browser('browser.problem_graded', 'problem_graded', JSON.stringify([query, html]));
          }
          if (grade === p.inputs.length) break;
        }
        const after = rnd.weighted([[4, 'none'], [2, 'showanswer'], [1, 'reset'], [2, 'save'], [1, 'fail']] as const);
        const stateNow = { correct_map: {}, done: true, input_state: Object.fromEntries(p.inputs.map((inp) => [inp.id, {}])), seed: 1, student_answers: problemAnswers(p) };
        if (after === 'showanswer') {
          browser('browser.problem_show', 'problem_show', { problem: p.key });
          server('server.showanswer', 'showanswer', { problem_id: p.key }, `${courseUrl}/xblock/${p.key}/handler/xmodule_handler/problem_show`, p);
        } else if (after === 'reset') {
          browser('browser.problem_reset', 'problem_reset', Object.keys(stateNow.student_answers).map((k) => `input_${k}=`).join('&'));
          server('server.reset_problem', 'reset_problem', { old_state: stateNow, problem_id: p.key, new_state: { ...stateNow, done: false, student_answers: {} } }, `${courseUrl}/xblock/${p.key}/handler/xmodule_handler/problem_reset`, p);
        } else if (after === 'save') {
          const answers = problemAnswers(p);
          browser('browser.problem_save', 'problem_save', Object.entries(answers).map(([k, a]) => `input_${k}=${encodeURIComponent(String(a))}`).join('&'));
          server('server.save_problem', 'save_problem_success', { answers, state: { ...stateNow, student_answers: answers }, problem_id: p.key }, `${courseUrl}/xblock/${p.key}/handler/xmodule_handler/problem_save`, p);
        } else if (after === 'fail') {
          server('server.problem_check_fail', 'problem_check_fail', { answers: problemAnswers(p), failure: 'closed', problem_id: p.key, state: stateNow }, path, p);
        }
        break;
      }
      case 'forum': {
        const topic = rnd.pick(c.topics);
        const body = rnd.chance(0.4) ? rnd.pick(RICH_TEXT) : rnd.pick(PLAIN_TEXT);
        const title = rnd.chance(0.3) ? rnd.pick(RICH_TEXT).slice(0, 24) : rnd.pick(['Question about week 2', 'Help with problem 3', 'Study group?', 'Typo in the transcript']);
        const threadId = rnd.hex(24);
        const roles = { user_forums_roles: ['Student'], user_course_roles: [] };
        const base = { category_id: topic.id, category_name: topic.name, commentable_id: topic.id };
        implicit('implicit.forum', `${courseUrl}/discussion/forum/`);
        if (rnd.chance(0.4)) {
          const query = rnd.pick(['regression', 'week 2 deadline', 'dérivée', '作业']);
          implicit('implicit.forum', `${courseUrl}/discussion/forum/search`, {}, { text: [query], page: ['1'] });
          server('server.forum', 'edx.forum.searched', { query, page: 1, total_results: rnd.int(0, 40), corrected_text: null, group_id: null }, `${courseUrl}/discussion/forum/search`);
        }
        const what = rnd.weighted([[3, 'thread'], [3, 'response'], [1, 'comment'], [2, 'vote'], [2, 'view']] as const);
        const url = `https://${HOST}/courses/${c.id}/discussion/${topic.id}/threads/${threadId}`;
        if (what === 'thread') {
          // The POST of a long body is cut at 512 characters by the middleware: no longer JSON.
          implicit('implicit.forum_post', `${courseUrl}/discussion/${topic.id}/threads/create`, { thread_type: ['discussion'], title: [title], body: [body.repeat(rnd.int(1, 12))], anonymous: ['false'], follow: ['true'] });
          server('server.forum', 'edx.forum.thread.created', {
            anonymous: false, anonymous_to_peers: false, body, ...base, group_id: null, id: threadId, options: { followed: true },
            thread_type: 'discussion', title, title_truncated: false, truncated: false, url, ...roles, team_id: null,
          }, `${courseUrl}/discussion/${topic.id}/threads/create`);
        } else if (what === 'response' || what === 'comment') {
          const responseId = rnd.hex(24);
          const type = what === 'response' ? 'edx.forum.response.created' : 'edx.forum.comment.created';
          const extra = what === 'response' ? { discussion: { id: threadId } } : { discussion: { id: threadId }, response: { id: responseId } };
          server('server.forum', type, { ...extra, body, ...base, id: rnd.hex(24), options: { followed: false }, truncated: false, url, ...roles }, `${courseUrl}/discussion/threads/${threadId}/reply`);
        } else if (what === 'vote') {
          server('server.forum', 'edx.forum.thread.voted', { ...base, id: threadId, undo_vote: rnd.chance(0.1), vote_value: 'up', target_username: rnd.pick(users).name, url, ...roles }, `${courseUrl}/discussion/threads/${threadId}/upvote`);
        } else {
          server('server.forum', 'edx.forum.thread.viewed', { ...base, id: threadId, title, title_truncated: false, target_username: rnd.pick(users).name, url, ...roles }, `/api/discussion/v1/threads/${threadId}`);
        }
        break;
      }
      case 'ora': {
        const ora = rnd.pick(c.oras);
        const handler = (h: string) => `${courseUrl}/xblock/${ora.key}/handler/${h}`;
        // Essays: several paragraphs, sometimes MathJax (backslashes) or emoji and CJK.
        const essay = [
          rnd.pick(PLAIN_TEXT),
          rnd.chance(0.4) ? `The estimate is \\(\\hat{p} = \\frac{x}{n}\\) with "n" = ${rnd.int(20, 90)}.` : '',
          rnd.chance(0.4) ? rnd.pick(RICH_TEXT) : '',
        ].filter(Boolean).join(rnd.chance(0.7) ? '\n\n' : ' ');
        const uuid = rnd.uuid();
        const anonId = rnd.hex(32);
        const parts = () => [
          { option: { points: rnd.int(0, 3), name: rnd.pick(['Fair', 'Good', 'Excellent']) }, criterion: { points_possible: 3, name: 'Ideas' }, feedback: '' },
          { option: { points: rnd.int(0, 2), name: rnd.pick(['Poor', 'Good']) }, criterion: { points_possible: 2, name: 'Content' }, feedback: rnd.chance(0.3) ? 'Nice sources 👍' : '' },
        ];
        const rubric = { content_hash: rnd.hex(40) };
        const what = rnd.weighted([[2, 'submit'], [2, 'peer'], [1, 'self'], [1, 'feedback']] as const);
        if (what === 'submit') {
          implicit('implicit.ora', handler('save_submission'));
          server('server.ora', 'openassessmentblock.save_submission', { saved_response: pyJson({ parts: [{ text: essay.slice(0, 40) }] }) }, handler('save_submission'), ora);
          implicit('implicit.ora', handler('submit'));
          step(1, 2);
          const at = isoTime(now);
          server('server.ora', 'openassessmentblock.create_submission', {
            submission_uuid: uuid, attempt_number: 1, created_at: at, submitted_at: at, answer: { parts: [{ text: essay }], file_keys: [], files_descriptions: [] },
          }, handler('submit'), ora);
        } else if (what === 'peer') {
          server('server.ora', 'openassessmentblock.get_peer_submission', { requesting_student_id: anonId, course_id: c.id, item_id: ora.key, submission_returned_uuid: rnd.chance(0.9) ? uuid : null }, handler('render_peer_assessment'), ora);
          implicit('implicit.ora', handler('peer_assess'));
          server('server.ora', 'openassessmentblock.peer_assess', {
            feedback: rnd.chance(0.5) ? rnd.pick(RICH_TEXT) : '', rubric, scored_at: isoTime(now), submission_uuid: uuid, score_type: 'PE', scorer_id: anonId, parts: parts(),
          }, handler('peer_assess'), ora);
        } else if (what === 'self') {
          server('server.ora', 'openassessmentblock.self_assess', { feedback: '', rubric, scored_at: isoTime(now), submission_uuid: uuid, score_type: 'SE', scorer_id: anonId, parts: parts() }, handler('self_assess'), ora);
        } else {
          server('server.ora', 'openassessmentblock.submit_feedback_on_assessments', { submission_uuid: uuid, feedback_text: rnd.pick(RICH_TEXT), options: ['These assessments were useful.'] }, handler('submit_feedback'), ora);
        }
        break;
      }
      case 'enroll': {
        const what = rnd.weighted([[5, 'activated'], [1, 'deactivated'], [2, 'mode_changed'], [1, 'upgrade']] as const);
        if (what === 'upgrade') {
          browser('browser.enrollment', 'edx.course.enrollment.upgrade.clicked', { location: 'learner_dashboard', course_id: c.id });
          break;
        }
        if (what === 'activated') implicit('implicit.enrollment', '/api/enrollment/v1/enrollment', {}, {}, { ...context('/api/enrollment/v1/enrollment'), course_id: '', org_id: '' }, '');
        const mode = what === 'mode_changed' ? 'verified' : rnd.pick(['audit', 'audit', 'verified', 'honor']);
        server('server.enrollment', `edx.course.enrollment.${what}`, { course_id: c.id, user_id: u.id, mode }, what === 'activated' ? '/api/enrollment/v1/enrollment' : '/change_enrollment');
        break;
      }
      case 'experiment': {
        if (c.partition && !u.groups.has(c.id)) {
          const group = rnd.int(0, c.partition.groups.length - 1);
          server('server.partition', 'xmodule.partitions.assigned_user_to_partition', { group_id: group, group_name: c.partition.groups[group], partition_id: c.partition.id, partition_name: c.partition.name }, `${courseUrl}/courseware/`);
          u.groups.set(c.id, group);
        } else {
          server('server.cohort', rnd.pick(['edx.cohort.user_added', 'edx.cohort.user_add_requested']), { user_id: u.id, cohort_id: rnd.int(1, 9), cohort_name: rnd.pick(['Team Blue', 'Team Orange', 'Équipe verte']) }, `${courseUrl}/cohorts/3/add`);
        }
        break;
      }
      case 'studio': {
        // Course authors in Studio: its middleware's context has no course; the URL names it
        // (/course/course-v1:…, /xblock/container/block-v1:…; an old-style course /course/Org/Num/Run).
        const studioCtx = (path: string): Rec => ({ user_id: u.id, org_id: '', course_id: '', path });
        const [, num, run] = c.legacy ? c.id.split('/') : c.id.slice('course-v1:'.length).split('+');
        const courseKeyPath = c.legacy ? `${c.org}/${num}/${run}` : c.id;
        const studioPage = `https://${STUDIO}/course/${courseKeyPath}`;
        const studio = (path: string, post: Rec = {}) =>
          implicit('implicit.studio', path, post, {}, studioCtx(path), c.id, STUDIO, studioPage);
        studio(`/course/${courseKeyPath}`);
        if (!c.legacy) {
          for (let i = 0, n = rnd.int(1, 4); i < n; i++) {
            const what = rnd.weighted([[3, 'container'], [3, 'xblock'], [1, 'outline'], [1, 'settings'], [1, 'assets']] as const);
            if (what === 'container') studio(`/xblock/container/${rnd.pick(c.verticals).key}`);
            else if (what === 'xblock') studio(`/xblock/${rnd.pick(c.problems).key}`, { metadata: { display_name: 'Edited problem', weight: 1 } });
            else if (what === 'outline') studio(`/xblock/outline/${seq.key}`);
            else if (what === 'settings') studio(`/settings/details/${c.id}`);
            else studio(`/assets/${c.id}/`);
          }
        } else {
          studio(`/settings/details/${courseKeyPath}`);
        }
        if (rnd.chance(0.3)) {
          server('server.grading_policy', 'edx.grades.grading_policy_changed', { course_key: c.id, event_transaction_id: rnd.uuid(), event_transaction_type: 'edx.grades.grading_policy_changed', grading_policy_hash: `${rnd.hex(27)}=` },
            `/settings/grading/${courseKeyPath}`, undefined, 'server', { courseInContext: false, referer: studioPage });
        }
        break;
      }
      case 'app': {
        // The mobile app's own events: `name` is the type, the course only in the payload.
        if (!u.mobileAgent) u.mobileAgent = rnd.pick(MOBILE_AGENTS);
        const app = u.mobileAgent.includes('Android') ? { name: 'edx.mobileapp.android', version: '3.3.1' } : { name: 'edx.mobileapp.iOS', version: '4.0.2' };
        const appEvent = (name: string, event: Rec) => {
          step(2, 30);
          push('mobile.app', {
            name, context: { user_id: u.id, org_id: '', course_id: '', path: '/segmentio/event', application: app, component: 'navigation', received_at: isoTime(now + 500_000) },
            username: u.name, session: '', ip: '', agent: u.mobileAgent, host: HOST, referer: '', accept_language: '',
            event, time: isoTime(now), event_type: name, event_source: 'mobile', page: null,
          });
        };
        appEvent('edx.bi.app.navigation.screen', { screen_name: 'Course Dashboard', course_id: c.id, category: 'screen', label: 'Course Dashboard' });
        appEvent('edx.bi.app.course.component.clicked', { course_id: c.id, block_id: rnd.pick(c.verticals).key, category: 'navigation' });
        break;
      }
      case 'staff': {
        // Types no handler knows yet (or ever): they keep their common columns.
        const what = rnd.weighted([[4, 'grades'], [1, 'exam'], [1, 'report'], [1, 'rescore'], [2, 'future']] as const);
        const sub = rnd.pick(c.sequentials);
        if (what === 'grades') {
          server('server.unknown', 'edx.grades.subsection.grade_calculated', {
            user_id: String(u.id), course_id: c.id, block_id: sub.key, course_version: rnd.hex(24), weighted_total_earned: rnd.int(0, 5),
            weighted_total_possible: 5, weighted_graded_earned: rnd.int(0, 5), weighted_graded_possible: 5, first_attempted: isoTime(now),
            subtree_edited_timestamp: '2023-08-30 14:11:52.413000+00:00', event_transaction_id: rnd.uuid(), event_transaction_type: 'edx.grades.problem.submitted', visible_blocks_hash: `${rnd.hex(27)}=`,
          }, `${courseUrl}/xblock/${rnd.pick(c.problems).key}/handler/xmodule_handler/problem_check`);
          server('server.unknown', 'edx.grades.course.grade_calculated', {
            user_id: String(u.id), course_id: c.id, course_version: rnd.hex(24), percent_grade: rnd.float(0, 1, 2), letter_grade: '',
            course_edited_timestamp: '2023-08-30 14:11:52.413000+00:00', event_transaction_id: rnd.uuid(), event_transaction_type: 'edx.grades.problem.submitted', grading_policy_hash: `${rnd.hex(27)}=`,
          }, `${courseUrl}/xblock/${rnd.pick(c.problems).key}/handler/xmodule_handler/problem_check`);
        } else if (what === 'exam') {
          server('server.unknown', 'edx.special_exam.timed.attempt.started', {
            exam_id: rnd.int(1, 30), exam_content_id: sub.key, exam_name: sub.name, exam_default_time_limit_mins: 60, exam_is_proctored: false,
            exam_is_practice_exam: false, exam_is_active: true, attempt_id: rnd.int(100, 9999), attempt_user_id: u.id, attempt_started_at: isoTime(now),
            attempt_completed_at: null, attempt_code: rnd.uuid().toUpperCase(), attempt_status: 'started', attempt_allowed_time_limit_mins: 60, attempt_event_elapsed_time_secs: 0,
          }, `/api/edx_proctoring/v1/proctored_exam/attempt`);
        } else if (what === 'report') {
          implicit('implicit.instructor', `${courseUrl}/instructor/api/problem_grade_report`);
          server('server.unknown', 'edx.instructor.report.requested', { report_type: rnd.pick(['grade', 'problem_grade', 'enrolled_learner_profile']) }, `${courseUrl}/instructor/api/problem_grade_report`);
        } else if (what === 'rescore') {
          const p = rnd.pick(c.problems);
          const correctMap = Object.fromEntries(p.inputs.map((inp) => [inp.id, { correctness: 'correct', npoints: null, msg: '', hint: '', hintmode: null, queuestate: null }]));
          server('server.problem_rescore', 'problem_rescore', {
            state: { correct_map: correctMap, done: true, input_state: {}, seed: 1, student_answers: problemAnswers(p) }, problem_id: p.key,
            orig_score: 0, orig_total: p.inputs.length, new_score: p.inputs.length, new_total: p.inputs.length, correct_map: correctMap, success: 'correct', attempts: 2,
          }, '', undefined, 'task', { courseInContext: false, referer: '', course: c.legacy ? '' : c.id });
        } else {
          server('server.unknown', rnd.pick(['edx.course.tool.accessed', 'edx.drag_and_drop_v2.item.dropped', 'org.example.analytics.heartbeat.v2', 'edx.course.grade.now_passed']), { course_id: c.id, location: rnd.pick(c.verticals).key, tool_name: 'edx.updates', is_correct: true }, `${courseUrl}/course/`);
        }
        break;
      }
    }
  }

  // Lines appear in the order they were written; the Tutor/Django prefix and the cut lines are rare.
  pending.sort((a, b) => a.written - b.written);
  const lines: ModernLine[] = [];
  for (const p of pending) {
    const r = p.record;
    const ordered: Rec = {};
    for (const key of p.order) if (key in r) ordered[key] = r[key];
    let text = pyJson(ordered, !p.rawUtf8);
    const prefixed = rnd.chance(0.08);
    if (prefixed) {
      const t = new Date(Math.floor(p.written / 1000)).toISOString().replace('T', ' ').replace('.', ',').slice(0, 23);
      const ctx = r.context as Rec;
      text = `${t} INFO ${rnd.int(7, 40)} [tracking] [user ${ctx.user_id || 'None'}] [ip ${r.ip || 'None'}] logger.py:41 - ${text}`;
    }
    const truncated = rnd.chance(0.005);
    if (truncated) text = text.slice(0, Math.floor(text.length * rnd.float(0.3, 0.95)));
    lines.push({ text, kind: p.kind, record: r, truncated, eventCut: p.eventCut, prefixed, course: p.course });
  }
  return lines;
}
