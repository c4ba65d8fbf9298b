// Drives headless Chromium over the DevTools protocol (on a pipe: --remote-debugging-pipe,
// messages NUL-separated JSON on fds 3 and 4, so no WebSocket library is needed) to submit
// an upload folder's form for real: it loads the listing, takes a screenshot of the page
// with the form, puts files in the form's file input (DOM.setFileInputFiles, what a person
// choosing files does), then submits the form either natively (the browser's own
// multipart/form-data encoding and navigation: mode "native") or through the page's script
// (its XMLHttpRequest with upload progress: mode "script"), and waits for the page that
// follows. Prints one JSON line: the final URL and the text of the page's <output>.
//
// Usage: node upload_form.js CHROMIUM URL SCREENSHOT MODE FILE...
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [browser, url, screenshot, mode, ...files] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'nomserve-upload-'));
const chrome = spawn(browser, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--window-size=1000,700', `--user-data-dir=${profile}`, '--remote-debugging-pipe',
  'about:blank',
], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });

const send = chrome.stdio[3];
const receive = chrome.stdio[4];
let nextId = 1;
const waiting = new Map();
const listeners = [];
let buffered = '';
receive.on('data', (chunk) => {
  buffered += chunk.toString('utf8');
  let end;
  while ((end = buffered.indexOf('\0')) >= 0) {
    const message = JSON.parse(buffered.slice(0, end));
    buffered = buffered.slice(end + 1);
    if (message.id && waiting.has(message.id)) {
      const { resolve, reject } = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error) reject(new Error(JSON.stringify(message.error)));
      else resolve(message.result);
    } else if (message.method) {
      for (const listener of listeners.slice()) listener(message);
    }
  }
});

function call(method, params = {}, sessionId) {
  const id = nextId++;
  const message = { id, method, params };
  if (sessionId) message.sessionId = sessionId;
  send.write(JSON.stringify(message) + '\0');
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}

function event(name, sessionId) {
  return new Promise((resolve) => {
    const listener = (message) => {
      if (message.method === name && message.sessionId === sessionId) {
        listeners.splice(listeners.indexOf(listener), 1);
        resolve(message.params);
      }
    };
    listeners.push(listener);
  });
}

function finish(code, text) {
  if (text) process.stdout.write(text + '\n');
  chrome.kill('SIGKILL');
  try { fs.rmSync(profile, { recursive: true, force: true }); } catch (e) { /* the killed browser may still be writing */ }
  process.exit(code);
}

setTimeout(() => finish(2, JSON.stringify({ error: 'timed out' })), 40000);

(async () => {
  const { targetId } = await call('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await call('Target.attachToTarget', { targetId, flatten: true });
  await call('Page.enable', {}, sessionId);
  await call('Runtime.enable', {}, sessionId);
  let loaded = event('Page.loadEventFired', sessionId);
  await call('Page.navigate', { url }, sessionId);
  await loaded;
  const { root } = await call('DOM.getDocument', {}, sessionId);
  const { nodeId } = await call('DOM.querySelector',
    { nodeId: root.nodeId, selector: '#upload input[type=file]' }, sessionId);
  if (!nodeId) return finish(1, JSON.stringify({ error: 'no upload form' }));
  await call('DOM.setFileInputFiles', { nodeId, files }, sessionId);
  const shot = await call('Page.captureScreenshot', { format: 'png' }, sessionId);
  fs.writeFileSync(screenshot, Buffer.from(shot.data, 'base64'));
  loaded = event('Page.loadEventFired', sessionId);
  const submit = mode === 'native'
    ? 'HTMLFormElement.prototype.submit.call(document.getElementById("upload"))'
    : 'document.querySelector("#upload button").click()';
  await call('Runtime.evaluate', { expression: submit }, sessionId);
  await loaded;
  const { result } = await call('Runtime.evaluate', {
    expression: 'JSON.stringify({url: location.href, links: ' +
      'Array.from(document.querySelectorAll("a")).map(a => a.textContent)})',
    returnByValue: true,
  }, sessionId);
  finish(0, result.value);
})().catch((e) => finish(1, JSON.stringify({ error: String(e) })));
