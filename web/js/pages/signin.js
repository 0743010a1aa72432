// signin.js - the sign-in form at / (CONTRACT section 9): login,
// password, one button. A wrong login and a wrong password get the same
// sentence; after five failures the API refuses for a while and the form
// says for how long.
import { html, useState } from '../html.js';
import { api } from '../api.js';
import { errorText } from '../errors.js';

export default function SignIn({ onSignedIn }) {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    if (!login.trim() || !password) {
      setError({ code: 'required' });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const session = await api('POST', '/session', { login: login.trim(), password }, { signIn: true });
      onSignedIn(session);
    } catch (err) {
      setError(err);
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="signin" onSubmit=${submit} novalidate>
    <h1>会议活动安排</h1>
    <p class="muted">办公室会议、用车、用餐统一安排</p>
    <label for="login">用户名</label>
    <input id="login" name="login" autocomplete="username" autocapitalize="none" spellcheck="false"
      value=${login} onInput=${(e) => setLogin(e.currentTarget.value)} required />
    <label for="password">密码</label>
    <input id="password" name="password" type="password" autocomplete="current-password"
      value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} required />
    ${error && html`<p class="form-error" role="alert">${error.code === 'required' ? '请输入用户名和密码' : errorText(error)}</p>`}
    <button type="submit" class="primary" disabled=${busy}>${busy ? '正在登录…' : '登录'}</button>
  </form>`;
}
