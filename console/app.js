// Review console: a static page over the review API. Plain JS, no build step, so it can be copied
// to S3/CloudFront as is. Every piece of data is written with textContent, never as HTML.

(() => {
  const CONFIG = window.PB_CONFIG || {};
  const API = String(CONFIG.apiBase ?? 'api').replace(/\/$/, '');
  const TOKEN_KEY = 'pb.token';
  const LANG_KEY = 'pb.lang';
  // The PKCE verifier and state of a sign-in under way through the managed login (config.js → auth).
  const OAUTH_KEY = 'pb.oauth';
  // The refresh token of a managed-login sign-in: a new access token when the one in use expires.
  const REFRESH_KEY = 'pb.refresh';
  const AUTH = authConfig(CONFIG.auth);

  /** config.js → auth as { domain, clientId }, or null (no auth, or not usable: then tokens only). */
  function authConfig(a) {
    if (a === undefined || a === null) return null;
    try {
      const url = new URL(String(a.domain ?? ''));
      const clientId = String(a.clientId ?? '').trim();
      // https only (the code, verifier and tokens cross it), but for a server on this machine.
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
      if (
        !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) ||
        url.search ||
        url.hash ||
        !clientId
      )
        throw new Error('not usable');
      return { domain: url.origin + url.pathname.replace(/\/+$/, ''), clientId };
    } catch {
      console.error(
        "config.js: auth is ignored: it needs domain ('https://<prefix>.auth.<region>.amazoncognito.com') and clientId",
      );
      return null;
    }
  }

  const T = {
    'zh-CN': {
      title: '免申即享 · 复核控制台',
      langSwitch: 'English',
      langSwitchLabel: 'English（切换为英文界面）',
      signOut: '退出',
      signInTitle: '登录',
      signInHelp: '请粘贴访问令牌（本地运行时由 npm start 打印的 “Reviewer token”）。',
      tokenLabel: '访问令牌',
      signIn: '登录',
      oauthHelp: '复核人员和审计人员请使用统一身份认证账户登录（需要多因素认证）。',
      oauthSignIn: '使用统一身份认证登录',
      useToken: '使用访问令牌登录（运维人员）',
      signingIn: '正在登录…',
      authState:
        '登录未完成：登录页面返回的校验信息与本浏览器发起的登录请求不符（链接已过期或被改动）。请重新登录。',
      authDenied: (p) => `登录未完成：统一身份认证返回错误（${p.detail}）。请重新登录。`,
      authFailed: (p) => `登录未完成：未能从统一身份认证取得访问令牌（${p.detail}）。请重新登录。`,
      sessionEnded: '登录已过期，且未能自动续期。请重新登录。',
      authUnavailable:
        '本页面不是通过安全连接（HTTPS）打开的，浏览器无法发起登录。请使用 https:// 地址打开控制台。',
      tabQueue: '复核队列',
      tabList: '全部决定',
      queueHelp:
        '以下决定需要人工复核：随机抽查、金额较大、享受条件发生变化，或受益人（监护人）提出异议、放弃享受。',
      colRef: '业务编号',
      colPolicy: '政策',
      colPeriod: '期间',
      colAmount: '金额（元）',
      colStatus: '状态',
      colWhy: '复核原因',
      colCreated: '办理时间',
      queueEmpty: '队列为空：没有待复核的决定。',
      listEmpty: '没有符合条件的决定。',
      more: '加载更多',
      filterPolicy: '政策',
      filterPeriod: '期间',
      filterStatus: '状态',
      filterFrom: '办理日期自',
      filterTo: '至',
      any: '全部',
      search: '查询',
      exportCsv: '导出 CSV',
      back: '← 返回列表',
      conditions: (p) => `判断依据：办理时（${p.date}）的信息与条件，及是否满足`,
      conditionsFlagged: (p) =>
        `判断依据：办理时（${p.date}）的信息与条件，及当时是否满足（不反映之后的变化，变化见上方提示）`,
      amountTitle: '金额如何计算',
      legalBasis: '政策依据',
      provenance: '数据来源',
      colFact: '信息',
      colSource: '提供部门',
      colEvent: '事件编号',
      colOccurred: '发生时间',
      history: '办理记录（台账）',
      actionsTitle: '复核操作',
      actionsHelp: '每项操作都会以您的身份记入台账。撤销须填写原因，原因将告知本人。',
      confirmNote: '备注（可选）',
      confirmReasonRequired: '维持原决定的理由（必填，将告知提出异议的人）',
      confirm: '确认无误',
      revokeReason: '撤销原因（必填，将告知本人）',
      revoke: '撤销',
      resolveLabel: '处理享受条件变化',
      resolveKeep: '维持原决定',
      resolveAdjust: '按新信息调整金额',
      resolveRevoke: '撤销（将告知本人）',
      resolveReason: '理由（必填）',
      resolve: '提交处理',
      readOnly: '您是审计人员：可以查看，不能操作。',
      roles: { reviewer: '复核人员', auditor: '审计人员', citizen: '群众' },
      factRef: '业务编号',
      factSubject: '对象（化名）',
      factStatus: '状态',
      factAmount: '金额',
      factRule: '规则版本',
      factCreated: '办理时间',
      factWhy: '进入复核队列原因',
      factRecipients: '通知对象',
      yuan: (y) => `${y} 元`,
      none: '无',
      article: '条款',
      fullText: '全文',
      confirmed: '已确认，并记入台账。',
      revoked: '已撤销，并记入台账；撤销通知已发送给本人。',
      revokedPending: '已撤销，并记入台账；通知将稍后发送。',
      resolved: '已处理，并记入台账。',
      needReason: '请填写撤销原因。',
      needObjectionReason: '维持原决定须填写理由：提出异议的人会收到这条说明。',
      needResolveReason: '请填写理由。',
      confirmRevoke:
        '确定撤销这项决定吗？撤销原因将告知本人。\n撤销只针对本期：以后各期仍按登记的信息判定。如果登记的信息有误，请由提供数据的部门更正。',
      badToken: '令牌无效或已过期，请重新登录。',
      staffOnly: (p) =>
        `本控制台供复核人员和审计人员使用。您登录的是${T['zh-CN'].roles[p.role] || p.role}账户，不能查看复核队列和决定；请使用复核人员或审计人员的令牌登录。`,
      badPeriod: '“期间”应为年份（如 2025）或年月（如 2025-03）。',
      badDate: '请填写完整的日期，或清空该日期。',
      badRange: '“办理日期自”不能晚于“至”。',
      failed: (p) => `操作未完成：${p.detail}`,
      loading: '加载中…',
      ledgerKinds: {
        grant: '系统自动办理',
        'eligibility-changed': '享受条件发生变化',
        'review.confirm': '复核确认',
        'review.revoke': '复核撤销',
        'review.resolve': '处理条件变化',
        'citizen.objection': '本人提出异议',
        'citizen.decline': '本人放弃享受',
        'citizen.objection.guardian': '监护人提出异议',
        'citizen.decline.guardian': '监护人代为放弃享受',
      },
      flagEvents: '引起变化的事件',
      by: '操作人',
      reason: '原因',
      resolution: { keep: '维持', adjust: '调整金额', revoke: '撤销' },
      sources: {
        'public-security': '公安',
        'civil-affairs': '民政',
        dpf: '残联',
        hrss: '人力社保',
        tax: '税务',
        samr: '市场监管',
      },
    },
    en: {
      title: 'Proactive benefits · Review console',
      langSwitch: '中文',
      langSwitchLabel: '中文 (switch to Chinese)',
      signOut: 'Sign out',
      signInTitle: 'Sign in',
      signInHelp: 'Paste your access token (locally: the “Reviewer token” npm start printed).',
      tokenLabel: 'Access token',
      signIn: 'Sign in',
      oauthHelp:
        'Reviewers and auditors sign in with their account (multi-factor authentication is required).',
      oauthSignIn: 'Sign in with your account',
      useToken: 'Use an access token (operators)',
      signingIn: 'Signing in…',
      authState:
        'Sign-in did not complete: the answer of the sign-in page does not match the request this browser made (the link is old or was altered). Sign in again.',
      authDenied: (p) =>
        `Sign-in did not complete: the sign-in service answered with an error (${p.detail}). Sign in again.`,
      authFailed: (p) =>
        `Sign-in did not complete: no access token could be obtained from the sign-in service (${p.detail}). Sign in again.`,
      sessionEnded: 'Your sign-in has expired and could not be renewed. Sign in again.',
      authUnavailable:
        'The page was not opened over a secure connection (HTTPS), so the browser cannot start the sign-in. Open the console at its https:// address.',
      tabQueue: 'Review queue',
      tabList: 'All decisions',
      queueHelp:
        'Decisions waiting for a person to look at them: random samples, large amounts, changed eligibility, objections and declines (by the beneficiary or a guardian).',
      colRef: 'Reference',
      colPolicy: 'Benefit',
      colPeriod: 'Period',
      colAmount: 'Amount (CNY)',
      colStatus: 'Status',
      colWhy: 'Why review',
      colCreated: 'Decided at',
      queueEmpty: 'The queue is empty: nothing waits for review.',
      listEmpty: 'No decision matches.',
      more: 'Load more',
      filterPolicy: 'Benefit',
      filterPeriod: 'Period',
      filterStatus: 'Status',
      filterFrom: 'Decided from',
      filterTo: 'to',
      any: 'Any',
      search: 'Search',
      exportCsv: 'Export CSV',
      back: '← Back to the list',
      conditions: (p) =>
        `Why: the facts and conditions at the time of the decision (${p.date}), and whether they were met`,
      conditionsFlagged: (p) =>
        `Why it was granted: the facts and conditions at the time of the decision (${p.date}), and whether they were met then (not the later change shown above)`,
      amountTitle: 'How the amount was worked out',
      legalBasis: 'Legal basis',
      provenance: 'Where the data came from',
      colFact: 'Information',
      colSource: 'Agency',
      colEvent: 'Event id',
      colOccurred: 'Happened at',
      history: 'History (ledger)',
      actionsTitle: 'Review',
      actionsHelp:
        'Every action is recorded in the ledger under your name. A revocation needs a reason, which the beneficiary is told.',
      confirmNote: 'Note (optional)',
      confirmReasonRequired: 'Reason for keeping the decision (required: whoever objected is told)',
      confirm: 'Confirm',
      revokeReason: 'Reason for revoking (required; the beneficiary is told)',
      revoke: 'Revoke',
      resolveLabel: 'Resolve the change in eligibility',
      resolveKeep: 'Keep the decision',
      resolveAdjust: 'Adjust the amount to the new information',
      resolveRevoke: 'Revoke (the beneficiary is told)',
      resolveReason: 'Reason (required)',
      resolve: 'Resolve',
      readOnly: 'You are an auditor: you can read, not act.',
      roles: { reviewer: 'reviewer', auditor: 'auditor', citizen: 'citizen' },
      factRef: 'Reference',
      factSubject: 'Beneficiary (pseudonym)',
      factStatus: 'Status',
      factAmount: 'Amount',
      factRule: 'Rule version',
      factCreated: 'Decided at',
      factWhy: 'Why in the review queue',
      factRecipients: 'Notified',
      yuan: (y) => `CNY ${y}`,
      none: 'none',
      article: 'Article',
      fullText: 'full text',
      confirmed: 'Confirmed and recorded in the ledger.',
      revoked: 'Revoked and recorded in the ledger; the beneficiary has been sent a notice.',
      revokedPending: 'Revoked and recorded in the ledger; the notice will be sent shortly.',
      resolved: 'Resolved and recorded in the ledger.',
      needReason: 'Write the reason for revoking.',
      needObjectionReason:
        'Keeping the decision against an objection needs a reason: whoever objected is told it.',
      needResolveReason: 'Write the reason.',
      confirmRevoke:
        'Revoke this decision? The beneficiary will be told the reason.\nThis revokes this period only: later periods are decided from the facts on record. If a fact is wrong, the agency that supplies it must correct it.',
      badToken: 'The token is not valid or has expired: sign in again.',
      staffOnly: (p) =>
        `This console is for reviewers and auditors. You signed in with a ${T.en.roles[p.role] || p.role} account, which cannot see the review queue or the decisions: sign in with a reviewer or auditor token.`,
      badPeriod: 'The period is a year (2025) or a year and month (2025-03).',
      badDate: 'Enter a whole date, or clear it.',
      badRange: '"Decided from" must not be after "to".',
      failed: (p) => `Not done: ${p.detail}`,
      loading: 'Loading…',
      ledgerKinds: {
        grant: 'Granted automatically',
        'eligibility-changed': 'Eligibility changed',
        'review.confirm': 'Confirmed by a reviewer',
        'review.revoke': 'Revoked by a reviewer',
        'review.resolve': 'Change in eligibility resolved',
        'citizen.objection': 'Objection by the beneficiary',
        'citizen.decline': 'Declined by the beneficiary',
        'citizen.objection.guardian': 'Objection by a guardian',
        'citizen.decline.guardian': 'Declined by a guardian',
      },
      flagEvents: 'Events behind the change',
      by: 'by',
      reason: 'reason',
      resolution: { keep: 'keep', adjust: 'adjust', revoke: 'revoke' },
      sources: {
        'public-security': 'Public security',
        'civil-affairs': 'Civil affairs',
        dpf: "Disabled Persons' Federation",
        hrss: 'Human resources and social security',
        tax: 'Tax',
        samr: 'Market regulation',
      },
    },
  };
  const STATUSES = {
    granted: { 'zh-CN': '已享受', en: 'granted' },
    'eligibility-changed': { 'zh-CN': '资格变化待复核', en: 'eligibility changed' },
    confirmed: { 'zh-CN': '已确认', en: 'confirmed' },
    revoked: { 'zh-CN': '已撤销', en: 'revoked' },
    declined: { 'zh-CN': '本人已放弃', en: 'declined' },
    objected: { 'zh-CN': '本人有异议', en: 'objected' },
  };

  const state = {
    lang: sessionStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh-CN',
    token: null,
    me: null,
    view: 'queue',
    queueCursor: null,
    listCursor: null,
    filters: {},
    detail: null,
    policies: [],
  };

  const $ = (id) => document.getElementById(id);
  const t = (key) => T[state.lang][key];
  const bi = (o) => (o && typeof o === 'object' ? (o[state.lang] ?? o['zh-CN'] ?? '') : String(o ?? ''));

  /** Builds an element: h('td', {className: 'x'}, 'text', child). Text never becomes HTML. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k in el) el[k] = v;
      else el.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  // The message on the page, kept as its key and parameters so that a change of language shows it
  // again in the other language. (Error sentences from the API itself are in English only.)
  let message = null;

  function flash(key, kind = 'info', params = {}) {
    message = key ? { key, kind, params } : null;
    renderFlash();
  }

  function renderFlash() {
    const el = $('flash');
    if (!message) {
      el.textContent = '';
      el.hidden = true;
      return;
    }
    const v = t(message.key);
    el.textContent = typeof v === 'function' ? v(message.params) : String(v ?? message.key);
    el.className = `flash ${message.kind}`;
    el.hidden = false;
  }

  /** Shows a failed request; a 401 has already signed out with its own message. */
  function failed(e) {
    if (e?.status !== 401) flash('failed', 'error', { detail: e?.message || String(e) });
  }

  /** Beijing time as 2027-01-02 08:00 in both languages: day-first and month-first readers agree. */
  const beijing = (d) =>
    Object.fromEntries(
      new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Asia/Shanghai',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      })
        .formatToParts(d)
        .map((x) => [x.type, x.value]),
    );

  const day = (iso) => {
    const d = new Date(iso);
    if (!iso || Number.isNaN(d.getTime())) return iso || '';
    const p = beijing(d);
    return `${p.year}-${p.month}-${p.day}`;
  };

  const when = (iso) => {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    const p = beijing(d);
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  };

  // ---------------------------------------------------------------------------------------------
  // Token: from #token=… (on load or when the hash changes in the same tab; either way removed from
  // the address bar at once), else the paste box; kept for the tab once /me accepts it.

  function tokenFromHash() {
    const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (!m) return null;
    history.replaceState(null, '', location.pathname + location.search);
    try {
      return decodeURIComponent(m[1]).trim() || null;
    } catch {
      return m[1].trim() || null;
    }
  }

  class ApiFailure extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, opts = {}) {
    const res = await fetch(`${API}${path}`, {
      method: opts.method || 'GET',
      headers: {
        authorization: `Bearer ${state.token}`,
        ...(opts.body ? { 'content-type': 'application/json' } : {}),
      },
      body: opts.body ? JSON.stringify(opts.body) : undefined,
    });
    if (res.status === 401) {
      // An expired access token of a managed-login sign-in is renewed once, and the request repeated.
      const renewable = !opts.renewed && sessionStorage.getItem(REFRESH_KEY);
      if (renewable && (await renewAccess())) return api(path, { ...opts, renewed: true });
      signOut(renewable ? 'sessionEnded' : 'badToken');
      throw new ApiFailure(401, 'unauthorised');
    }
    if (opts.raw) {
      if (!res.ok)
        throw new ApiFailure(res.status, (await res.json().catch(() => ({}))).error || res.statusText);
      return res;
    }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiFailure(res.status, body.error || res.statusText);
    return body;
  }

  /** Back to the sign-in form, with a message (key and parameters) or none. */
  function signOut(key, params) {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(OAUTH_KEY);
    sessionStorage.removeItem(REFRESH_KEY);
    state.token = null;
    state.me = null;
    state.detail = null;
    $('app').hidden = true;
    $('sign-in').hidden = false;
    $('sign-out').hidden = true;
    $('who').textContent = '';
    flash(key || '', 'error', params);
  }

  const STAFF = ['reviewer', 'auditor'];

  async function signIn(token) {
    state.token = token.trim();
    try {
      state.me = await api('/me');
    } catch (e) {
      if (e.status !== 401) signOut('failed', { detail: e.message });
      return;
    }
    if (!STAFF.includes(state.me?.role)) {
      // A citizen's token is valid, but this console has nothing for it: say so, not a 403.
      signOut('staffOnly', { role: state.me?.role });
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, state.token);
    $('sign-in').hidden = true;
    $('sign-out').hidden = false;
    $('app').hidden = false;
    flash('');
    renderWho();
    try {
      state.policies = (await api('/policies')).items || [];
    } catch {
      state.policies = [];
    }
    fillFilters();
    await show(state.view);
  }

  // ---------------------------------------------------------------------------------------------
  // Sign-in through the user pool's managed login (config.js → auth): the OAuth 2.0 authorization
  // code grant with PKCE (S256) of a public client. The verifier and a random state wait in this
  // tab's sessionStorage while the reviewer is on the sign-in page; the access token it gives back
  // is then used exactly as a pasted one.

  /** The console's own address (no query or fragment): the app client's callback and sign-out URL. */
  function consoleUrl() {
    return location.origin + location.pathname.replace(/\/index\.html$/, '/');
  }

  /** Base64url without padding (RFC 7636). */
  function b64url(bytes) {
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  const randomText = (bytes) => b64url(crypto.getRandomValues(new Uint8Array(bytes)));

  /** Leaves for the managed login's authorize endpoint. */
  async function startOAuth() {
    // crypto.subtle exists only in a secure context (https, or localhost).
    if (!window.isSecureContext || !window.crypto?.subtle) {
      flash('authUnavailable', 'error');
      return;
    }
    const verifier = randomText(32); // 43 characters
    const oauthState = randomText(16);
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
    const redirectUri = consoleUrl();
    sessionStorage.setItem(OAUTH_KEY, JSON.stringify({ state: oauthState, verifier, redirectUri }));
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: AUTH.clientId,
      redirect_uri: redirectUri,
      scope: 'openid email',
      state: oauthState,
      code_challenge: b64url(new Uint8Array(digest)),
      code_challenge_method: 'S256',
    });
    location.assign(`${AUTH.domain}/oauth2/authorize?${q}`);
  }

  /**
   * The managed login's answer in the address (?code=…&state=…, or ?error=…), taken out of the
   * address bar at once; null when there is none (or no auth in config.js).
   */
  function oauthAnswer() {
    if (!AUTH) return null;
    const q = new URLSearchParams(location.search);
    if (!q.has('code') && !q.has('error')) return null;
    history.replaceState(null, '', location.pathname);
    return q;
  }

  /** Checks the state, trades the code for tokens and signs in with the access token. */
  async function finishOAuth(q) {
    let pending = null;
    try {
      pending = JSON.parse(sessionStorage.getItem(OAUTH_KEY) || 'null');
    } catch {
      pending = null;
    }
    // One use only, whatever happens next.
    sessionStorage.removeItem(OAUTH_KEY);
    // An answer this tab did not ask for (or an altered one) is refused, error text and all.
    if (!pending?.state || !pending.verifier || q.get('state') !== pending.state) {
      signOut('authState');
      return;
    }
    if (q.has('error')) {
      signOut('authDenied', {
        detail: [q.get('error'), q.get('error_description')].filter(Boolean).join(': '),
      });
      return;
    }
    $('sign-in').hidden = true;
    flash('signingIn', 'info');
    let token;
    try {
      const { res, body } = await managedLogin('/oauth2/token', {
        grant_type: 'authorization_code',
        code: q.get('code') || '',
        redirect_uri: pending.redirectUri || consoleUrl(),
        code_verifier: pending.verifier,
      });
      if (!res.ok) {
        throw new Error(
          typeof body.error === 'string'
            ? [body.error, body.error_description].filter(Boolean).join(': ')
            : `HTTP ${res.status}`,
        );
      }
      token = typeof body.access_token === 'string' ? body.access_token.trim() : '';
      if (!token) throw new Error('the answer has no access_token');
      if (typeof body.refresh_token === 'string' && body.refresh_token) {
        sessionStorage.setItem(REFRESH_KEY, body.refresh_token);
      }
    } catch (e) {
      signOut('authFailed', { detail: e?.message || String(e) });
      return;
    }
    await signIn(token);
  }

  /** A pasted or linked token: no refresh token of an earlier sign-in may renew it as someone else. */
  function signInWithToken(token) {
    sessionStorage.removeItem(REFRESH_KEY);
    return signIn(token);
  }

  /** A form POST to an endpoint of the managed login, as this app client; the answer and its JSON. */
  async function managedLogin(path, form, init = {}) {
    const res = await fetch(`${AUTH.domain}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: AUTH.clientId, ...form }).toString(),
      ...init,
    });
    return { res, body: await res.json().catch(() => ({})) };
  }

  /** The renewal under way, shared by the requests that found the access token expired together. */
  let renewing = null;

  /**
   * Trades the refresh token for a new access token (the token endpoint's refresh_token grant) and
   * uses it from now on. True when it did; false when there is no refresh token or it was refused
   * (expired, revoked): the reviewer signs in again.
   */
  function renewAccess() {
    renewing ??= (async () => {
      const refresh = sessionStorage.getItem(REFRESH_KEY);
      if (!AUTH || !refresh) return false;
      try {
        const { res, body } = await managedLogin('/oauth2/token', {
          grant_type: 'refresh_token',
          refresh_token: refresh,
        });
        const fresh = res.ok && typeof body.access_token === 'string' ? body.access_token.trim() : '';
        // Signed out (or signed in anew) meanwhile: the answer belongs to a session that is over.
        if (!fresh || sessionStorage.getItem(REFRESH_KEY) !== refresh) return false;
        state.token = fresh;
        sessionStorage.setItem(TOKEN_KEY, fresh);
        return true;
      } catch {
        return false;
      }
    })().finally(() => {
      renewing = null;
    });
    return renewing;
  }

  /**
   * Revokes a refresh token at the managed login (it would otherwise stay valid for hours). Waits
   * at most two seconds; the request outlives the page (keepalive) when sign-out moves on.
   */
  async function revokeRefresh(refresh) {
    if (!AUTH || !refresh) return;
    try {
      await managedLogin(
        '/oauth2/revoke',
        { token: refresh },
        { keepalive: true, signal: AbortSignal.timeout(2000) },
      );
    } catch {
      // Signing out goes on: the managed login's /logout ends the session regardless.
    }
  }

  /** With auth: the sign-in button first, the token form under a disclosure for operators. */
  function setUpOAuth() {
    if (!AUTH) return;
    $('oauth-sign-in').hidden = false;
    const disclosure = $('token-disclosure');
    disclosure.append($('token-sign-in'));
    disclosure.hidden = false;
    $('oauth-button').addEventListener('click', () => {
      $('oauth-button').disabled = true;
      startOAuth()
        .catch((e) => flash('authFailed', 'error', { detail: e?.message || String(e) }))
        .finally(() => {
          $('oauth-button').disabled = false;
        });
    });
  }

  function renderWho() {
    if (!state.me) return;
    $('who').textContent = `${t('roles')[state.me.role] || state.me.role} · ${state.me.id}`;
  }

  // ---------------------------------------------------------------------------------------------
  // Language

  function applyLang() {
    document.documentElement.lang = state.lang;
    for (const el of document.querySelectorAll('[data-i18n]')) {
      const v = t(el.dataset.i18n);
      if (typeof v === 'string') el.textContent = v;
    }
    document.title = `${t('title')}`;
    // The button names the language it switches to.
    $('lang-toggle').textContent = t('langSwitch');
    $('lang-toggle').setAttribute('aria-label', t('langSwitchLabel'));
    renderWho();
    fillFilters();
    renderFlash();
  }

  function fillFilters() {
    const policy = $('filter-policy');
    const chosenPolicy = policy.value;
    policy.replaceChildren(h('option', { value: '' }, t('any')));
    for (const p of state.policies) policy.append(h('option', { value: p.id }, `${bi(p.title)} (${p.id})`));
    policy.value = chosenPolicy;
    const status = $('filter-status');
    const chosenStatus = status.value;
    status.replaceChildren(h('option', { value: '' }, t('any')));
    for (const [id, label] of Object.entries(STATUSES)) status.append(h('option', { value: id }, bi(label)));
    status.value = chosenStatus;
  }

  // ---------------------------------------------------------------------------------------------
  // Lists

  /**
   * A decision in a list. The reference number is a button (keyboard: Tab, then Enter or Space);
   * a click anywhere on the row opens the decision too (the button's click bubbles up to the row).
   */
  function row(d) {
    const tr = h(
      'tr',
      {
        className: 'clickable',
        dataset: { ref: d.ref, subject: d.subject, policy: d.policy, period: d.period, status: d.status },
        onclick: () => openDetail(d.subject, d.policy, d.period),
      },
      h('td', { className: 'ref' }, h('button', { type: 'button', className: 'ref-link mono' }, d.ref)),
      h('td', {}, d.policyTitle ? bi(d.policyTitle) : d.policy),
      h('td', { className: 'nowrap' }, d.period),
      h('td', { className: 'num' }, d.amountYuan),
      h('td', {}, h('span', { className: `status s-${d.status}` }, bi(d.statusLabel || STATUSES[d.status]))),
      h('td', {}, d.inReviewQueue && d.reviewReasonLabel ? bi(d.reviewReasonLabel) : ''),
      h('td', { className: 'nowrap' }, when(d.createdAt)),
    );
    return tr;
  }

  async function loadQueue(more = false) {
    const body = $('queue-table').tBodies[0];
    if (!more) {
      body.replaceChildren();
      state.queueCursor = null;
    }
    const q = new URLSearchParams({ limit: '50' });
    if (more && state.queueCursor) q.set('cursor', state.queueCursor);
    const page = await api(`/review-queue?${q}`);
    for (const d of page.items) body.append(row(d));
    state.queueCursor = page.cursor;
    $('queue-more').hidden = !page.cursor;
    $('queue-empty').hidden = body.rows.length > 0;
  }

  function filterParams(filters = state.filters) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    return q;
  }

  /**
   * The filters the form shows, checked as the API checks them; null (with the reason on the page
   * and the field marked) when they are not valid. Searching and exporting both read them here.
   */
  function readFilters() {
    const form = $('filters');
    const f = Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, String(v).trim()]));
    const fields = ['filter-period', 'filter-from', 'filter-to'];
    for (const id of fields) $(id).removeAttribute('aria-invalid');
    let bad = null;
    if (f.period && !/^\d{4}(-(0[1-9]|1[0-2]))?$/.test(f.period)) bad = ['filter-period', 'badPeriod'];
    else if ($('filter-from').validity.badInput) bad = ['filter-from', 'badDate'];
    else if ($('filter-to').validity.badInput) bad = ['filter-to', 'badDate'];
    else if (f.from && f.to && f.from > f.to) bad = ['filter-from', 'badRange'];
    if (bad) {
      $(bad[0]).setAttribute('aria-invalid', 'true');
      flash(bad[1], 'error');
      $(bad[0]).focus();
      return null;
    }
    return f;
  }

  async function loadList(more = false) {
    const body = $('list-table').tBodies[0];
    if (!more) {
      body.replaceChildren();
      state.listCursor = null;
    }
    const q = filterParams();
    q.set('limit', '50');
    if (more && state.listCursor) q.set('cursor', state.listCursor);
    const page = await api(`/decisions?${q}`);
    for (const d of page.items) body.append(row(d));
    state.listCursor = page.cursor;
    $('list-more').hidden = !page.cursor;
    $('list-empty').hidden = body.rows.length > 0;
  }

  const VIEWS = ['queue', 'list'];

  async function show(view) {
    state.view = view;
    $('view-queue').hidden = view !== 'queue';
    $('view-list').hidden = view !== 'list';
    $('detail').hidden = true;
    for (const v of VIEWS) {
      const tab = $(`tab-${v}`);
      tab.setAttribute('aria-selected', String(v === view));
      tab.tabIndex = v === view ? 0 : -1; // one tab stop for the tab list; the arrows move within it
    }
    try {
      if (view === 'queue') await loadQueue();
      else await loadList();
    } catch (e) {
      failed(e);
    }
  }

  /** Tabs: ArrowLeft/ArrowRight (and Home/End) move to the other tab and show it. */
  function onTabKey(e) {
    const at = VIEWS.indexOf(e.target.dataset.view);
    if (at < 0) return;
    const next =
      e.key === 'ArrowRight'
        ? (at + 1) % VIEWS.length
        : e.key === 'ArrowLeft'
          ? (at - 1 + VIEWS.length) % VIEWS.length
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? VIEWS.length - 1
              : -1;
    if (next < 0) return;
    e.preventDefault();
    $(`tab-${VIEWS[next]}`).focus();
    show(VIEWS[next]);
  }

  async function exportCsv(filters) {
    try {
      const res = await api(`/export.csv?${filterParams(filters)}`, { raw: true });
      const blob = await res.blob();
      const name =
        /filename="([^"]+)"/.exec(res.headers.get('content-disposition') || '')?.[1] || 'decisions.csv';
      const a = h('a', { href: URL.createObjectURL(blob), download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (e) {
      failed(e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Detail

  async function openDetail(subject, policy, period) {
    try {
      const path = `/decisions/${encodeURIComponent(subject)}/${encodeURIComponent(policy)}/${encodeURIComponent(period)}`;
      state.detail = await api(path);
      state.detail.path = path;
      renderDetail();
      $('view-queue').hidden = true;
      $('view-list').hidden = true;
      $('detail').hidden = false;
      $('detail-title').focus?.();
      window.scrollTo(0, 0);
    } catch (e) {
      failed(e);
    }
  }

  function renderDetail() {
    const x = state.detail;
    if (!x) return;
    const d = x.decision;
    const lang = state.lang;
    $('detail-title').textContent = `${x.policy ? bi(x.policy.title) : d.policy} · ${d.period}`;
    $('detail-title').tabIndex = -1;
    $('detail-summary').textContent = bi(x.summary);
    $('detail').dataset.status = d.status;
    $('detail').dataset.ref = d.ref;

    const facts = [
      [t('factRef'), d.ref],
      [t('factStatus'), bi(d.statusLabel)],
      [t('factAmount'), t('yuan')(d.amountYuan)],
      [t('factRule'), `${d.policy} v${x.ruleVersion}`],
      [t('factCreated'), when(d.createdAt)],
      [t('factSubject'), d.subject],
      [t('factRecipients'), (d.recipients || []).join(', ') || t('none')],
    ];
    if (d.inReviewQueue && d.reviewReasonLabel) facts.push([t('factWhy'), bi(d.reviewReasonLabel)]);
    $('detail-facts').replaceChildren(
      ...facts.flatMap(([k, v]) => [
        h('dt', {}, k),
        h('dd', k === t('factRef') ? { className: 'ref' } : {}, v),
      ]),
    );

    // A flag stays with the decision whatever happened next (a decline, an objection): show it.
    const flagEl = $('detail-flag');
    if (x.flag) {
      flagEl.hidden = false;
      flagEl.replaceChildren(
        h('strong', {}, bi(x.flag)),
        x.flag.reasons.length
          ? h(
              'ul',
              {},
              x.flag.reasons.map((r) => h('li', {}, bi(r))),
            )
          : null,
        x.flag.eventIds?.length
          ? h(
              'div',
              { className: 'flag-events' },
              `${t('flagEvents')}: `,
              h('span', { className: 'mono' }, x.flag.eventIds.join(', ')),
            )
          : null,
      );
    } else flagEl.hidden = true;

    // The conditions are those evaluated when the decision was made, not the later facts.
    $('conditions-title').textContent = t(x.flag ? 'conditionsFlagged' : 'conditions')({
      date: day(d.createdAt),
    });
    $('detail-conditions').replaceChildren(
      ...x.explanation.map((line) =>
        h(
          'li',
          {
            className: `cond ${line.met === true ? 'met' : line.met === false ? 'unmet' : 'unknown'}`,
            style: `margin-left:${line.depth * 1.5}em`,
          },
          h(
            'span',
            { className: 'icon', 'aria-hidden': 'true' },
            line.met === true ? '✓' : line.met === false ? '✗' : '?',
          ),
          ` ${line[lang]}`,
        ),
      ),
    );

    // The working in words when the API could put it so; the engine's own text otherwise.
    const working = x.amount.workingText ? bi(x.amount.workingText) : x.amount.working;
    $('detail-amount').textContent = `${t('yuan')(x.amount.yuan)}${working ? ` — ${working}` : ''}`;
    if (x.amount.working) $('detail-amount').title = x.amount.working;
    $('detail-params').replaceChildren(
      ...x.amount.parameters.map((p) =>
        h(
          'li',
          { className: 'mono' },
          `${p.name} = ${p.text ? bi(p.text) : JSON.stringify(p.value)} (${p.from})`,
        ),
      ),
    );

    const legal = $('detail-legal');
    if (x.policy) {
      const ref = x.policy.legalReference;
      legal.replaceChildren(
        h('span', {}, ref.document),
        h('br'),
        h('span', {}, ref.article),
        ref.link
          ? h(
              'span',
              {},
              ' · ',
              h('a', { href: ref.link, target: '_blank', rel: 'noopener noreferrer' }, t('fullText')),
            )
          : null,
      );
    } else legal.textContent = t('none');

    $('detail-provenance').tBodies[0].replaceChildren(
      ...x.provenance.map((p) =>
        h(
          'tr',
          {},
          h('td', {}, p.label ? bi(p.label) : p.fact),
          h('td', {}, t('sources')[p.source] || p.source),
          h('td', { className: 'mono' }, p.eventId),
          h('td', {}, when(p.occurredAt)),
        ),
      ),
    );

    $('detail-history').replaceChildren(
      ...x.history.map((e) =>
        h(
          'li',
          { dataset: { kind: e.kind, seq: String(e.seq) } },
          h(
            'strong',
            {},
            // A citizen's answer says whether the beneficiary or a guardian gave it.
            (e.payload?.role === 'guardian' && t('ledgerKinds')[`${e.kind}.guardian`]) ||
              t('ledgerKinds')[e.kind] ||
              e.kind,
          ),
          ` · ${when(e.at)} · ${t('by')} ${e.actor}`,
          e.payload?.resolution ? ` · ${t('resolution')[e.payload.resolution] || e.payload.resolution}` : '',
          e.payload?.reason ? h('div', { className: 'reason' }, `${t('reason')}: ${e.payload.reason}`) : null,
          e.flag
            ? h(
                'div',
                { className: 'reason' },
                `${bi(e.flag)} ${e.flag.reasons.map((r) => bi(r)).join(state.lang === 'zh-CN' ? '；' : '; ')}`,
              )
            : null,
          h('div', { className: 'hash mono', title: e.hash }, `#${e.seq} ${e.hash.slice(0, 16)}…`),
        ),
      ),
    );

    // The confirm note is required against an objection (the API refuses a bare confirm then).
    const noteLabel = document.querySelector('label[for="confirm-note"]');
    if (noteLabel) {
      noteLabel.dataset.i18n = d.status === 'objected' ? 'confirmReasonRequired' : 'confirmNote';
      noteLabel.textContent = t(noteLabel.dataset.i18n);
    }
    const canAct = state.me?.role === 'reviewer';
    const s = d.status;
    $('actions').hidden = !canAct;
    $('read-only').hidden = canAct;
    // What the API accepts for the status (a flagged decision is resolved, which can revoke it; a
    // decline is acknowledged once, while it waits in the queue).
    $('confirm-box').hidden = !(['granted', 'objected'].includes(s) || (s === 'declined' && d.inReviewQueue));
    $('revoke-box').hidden = !['granted', 'confirmed', 'objected'].includes(s);
    $('resolve-box').hidden = s !== 'eligibility-changed';
    $('actions').hidden =
      !canAct || ($('confirm-box').hidden && $('revoke-box').hidden && $('resolve-box').hidden);
    $('confirm-note').value = '';
    $('revoke-reason').value = '';
    $('resolve-reason').value = '';
  }

  /** Sends a review action; `done` is the message key for success, or picks one from the response. */
  async function act(action, body, done) {
    const buttons = document.querySelectorAll('#actions button');
    for (const b of buttons) b.disabled = true;
    try {
      const r = await api(`${state.detail.path}/${action}`, { method: 'POST', body });
      const relayed = r.notifications?.relayed !== false;
      flash(typeof done === 'function' ? done(r, relayed) : done, 'ok');
      const path = state.detail.path;
      state.detail = await api(path);
      state.detail.path = path;
      renderDetail();
    } catch (e) {
      failed(e);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Wiring

  function wire() {
    $('lang-toggle').addEventListener('click', () => {
      state.lang = state.lang === 'zh-CN' ? 'en' : 'zh-CN';
      sessionStorage.setItem(LANG_KEY, state.lang);
      applyLang();
      if (!$('detail').hidden) renderDetail();
      else if (state.token && state.me) show(state.view);
    });
    $('token-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const v = $('token-input').value.trim();
      if (v) signInWithToken(v);
    });
    // A #token=… link opened in this tab while the console is already open.
    window.addEventListener('hashchange', () => {
      const fromHash = tokenFromHash();
      if (fromHash) signInWithToken(fromHash);
    });
    $('sign-out').addEventListener('click', async () => {
      // Signed out on the page at once; the refresh token is revoked after.
      const refresh = sessionStorage.getItem(REFRESH_KEY);
      signOut();
      await revokeRefresh(refresh);
      // Ends the managed login's session too, which then sends the browser back here.
      if (AUTH) {
        const q = new URLSearchParams({ client_id: AUTH.clientId, logout_uri: consoleUrl() });
        location.assign(`${AUTH.domain}/logout?${q}`);
      }
    });
    for (const v of VIEWS) {
      $(`tab-${v}`).addEventListener('click', () => show(v));
      $(`tab-${v}`).addEventListener('keydown', onTabKey);
    }
    $('queue-more').addEventListener('click', () => loadQueue(true).catch(failed));
    $('list-more').addEventListener('click', () => loadList(true).catch(failed));
    $('filters').addEventListener('submit', (e) => {
      e.preventDefault();
      const f = readFilters();
      if (!f) return;
      state.filters = f;
      flash('');
      loadList().catch(failed);
    });
    // The export is of what the form shows now, checked as a search is.
    $('export-csv').addEventListener('click', () => {
      const f = readFilters();
      if (!f) return;
      flash('');
      exportCsv(f);
    });
    $('detail-close').addEventListener('click', () => show(state.view));
    $('confirm-btn').addEventListener('click', () => {
      const note = $('confirm-note').value.trim();
      // Turning down an objection needs a reason: whoever objected is told it.
      if (!note && state.detail?.decision?.status === 'objected') {
        flash('needObjectionReason', 'error');
        $('confirm-note').focus();
        return;
      }
      act('confirm', note ? { reason: note } : {}, 'confirmed');
    });
    $('revoke-btn').addEventListener('click', () => {
      const reason = $('revoke-reason').value.trim();
      if (!reason) {
        flash('needReason', 'error');
        $('revoke-reason').focus();
        return;
      }
      if (!window.confirm(t('confirmRevoke'))) return;
      act('revoke', { reason }, (_r, relayed) => (relayed ? 'revoked' : 'revokedPending'));
    });
    $('resolve-btn').addEventListener('click', () => {
      const reason = $('resolve-reason').value.trim();
      if (!reason) {
        flash('needResolveReason', 'error');
        $('resolve-reason').focus();
        return;
      }
      const resolution = $('resolve-choice').value;
      if (resolution === 'revoke' && !window.confirm(t('confirmRevoke'))) return;
      act('resolve', { resolution, reason }, 'resolved');
    });
  }

  wire();
  setUpOAuth();
  applyLang();
  const answer = oauthAnswer();
  if (answer) finishOAuth(answer);
  else {
    const fromHash = tokenFromHash();
    const token = fromHash || sessionStorage.getItem(TOKEN_KEY);
    if (fromHash) signInWithToken(fromHash);
    else if (token) signIn(token);
    else signOut();
  }
})();
