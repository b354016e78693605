// The call-link page: asks the server for a session (the token never leaves this page), then calls the link's
// destination with the platform's JS SDK. URLs are relative to the page, so the page works under any base path.
const data = JSON.parse(document.getElementById("call-link-data").textContent);
const $ = (id) => document.getElementById(id);
const events = [];
let rtc = null;
let call = null;
let session = null;
let heartbeat = null;
let layoutIndex = 0;

const text = (key) => data.texts[key] || key;
for (const element of document.querySelectorAll("[data-text]")) element.textContent = text(element.dataset.text);

function record(name, detail = {}) {
  events.push({ name, ...detail });
}

function showError(message) {
  $("error").textContent = message || "";
}

async function report(status, callId) {
  if (!session) return;
  try {
    await fetch(`call-link/page/${data.code}/session/report`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Call-Link-Session": session.sessionId },
      body: JSON.stringify(callId ? { status, callId } : { status }),
      keepalive: status === "FINISHED",
    });
  } catch (error) {
    record("report-failed", { status, error: String(error) });
  }
}

async function startSession() {
  const body = {};
  if (data.user.needsName) body.displayName = $("name").value.trim();
  if (data.destination.protected) body.password = $("password").value;
  const response = await fetch(`call-link/page/${data.code}/session`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.ok) return response.json();
  const failure = await response.json().catch(() => ({}));
  const exception = (failure.requestError || {}).serviceException || {};
  const messages = { FORBIDDEN: text("wrongPassword"), TOO_MANY_REQUESTS: text("busy") };
  const message = messages[exception.messageId] || exception.text || String(response.status);
  record("session-refused", { status: response.status, messageId: exception.messageId });
  throw new Error(message);
}

function setLayout(index) {
  layoutIndex = index % data.theme.layouts.length;
  $("videos").className = `layout-${data.theme.layouts[layoutIndex]}`;
}

function ended(errorName) {
  record("hangup", { errorCode: errorName });
  clearInterval(heartbeat);
  $("status").textContent = text("callEnded");
  $("controls").hidden = true;
  report("FINISHED", call && call.id());
  if (rtc) rtc.disconnect();
}

function wireCall(video) {
  const options = data.callOptions;
  $("mute").hidden = !options.mute;
  $("camera").hidden = !(options.camera && video);
  $("screen").hidden = !(options.screenShare && video);
  $("layout").hidden = data.theme.layouts.length < 2;
  $("chat").hidden = !(options.chat && data.destination.type === "ROOM") && !data.destination.chat;
  setLayout(0);
  const established = async () => {
    record("established", { id: call.id() });
    $("status").textContent = text("inCall");
    if (data.initialOptions.muted) {
      await call.mute(true);
      $("mute").setAttribute("aria-pressed", "true");
    }
    await report("ESTABLISHED", call.id());
    heartbeat = setInterval(() => report("HEARTBEAT"), 20000);
  };
  call.on(data.destination.type === "ROOM" ? "room-joined" : "established", established);
  call.on(data.destination.type === "ROOM" ? "room-left" : "hangup", ({ errorCode }) =>
    ended(errorCode ? errorCode.name : "NORMAL_HANGUP"),
  );
  if (data.destination.type !== "ROOM") call.on("ringing", () => record("ringing")); // a room never rings
  call.on("error", ({ errorCode }) => showError(errorCode ? errorCode.name : "ERROR"));
  if (call.dataChannel) {
    call.dataChannel().on("text-received", ({ text: message, from }) => {
      const line = document.createElement("div");
      line.textContent = `${from && from.identity ? from.identity : from || ""}: ${message}`;
      $("chat-log").append(line);
      record("chat", { text: message });
    });
  }
}

async function placeCall(video) {
  const media = {
    video,
    audio: true,
    localVideoElement: video ? $("local-video") : undefined,
    remoteVideoElement: $("remote-video"),
  };
  const destination = data.destination;
  if (destination.type === "WEBRTC") return rtc.callWebrtc(destination.identity, media);
  if (destination.type === "ROOM") return rtc.joinRoom(destination.roomName, media);
  if (typeof rtc.callApplication !== "function") throw new Error("FEATURE_UNAVAILABLE");
  return rtc.callApplication(destination.callsConfigurationId, media);
}

async function start(video) {
  showError("");
  if (data.user.needsName && !$("name").value.trim()) {
    $("name").focus();
    return;
  }
  try {
    session = await startSession();
    const { createSwitchboardRtc } = await import(new URL("sdk/v1/switchboard-rtc.js", document.baseURI).href);
    rtc = createSwitchboardRtc(session.token);
    await rtc.connect();
    $("start").hidden = true;
    $("call").hidden = false;
    $("status").textContent = text("calling");
    call = await placeCall(video);
    wireCall(video);
    record("calling", { identity: session.identity });
  } catch (error) {
    record("failed", { error: String(error.message || error) });
    showError(error.message || String(error));
    if (session) report("FINISHED");
    if (rtc) rtc.disconnect();
    session = null;
    rtc = null;
  }
}

function controls() {
  $("hangup").onclick = () => call && call.hangup();
  $("mute").onclick = async () => {
    const muted = !call.muted();
    await call.mute(muted);
    $("mute").setAttribute("aria-pressed", String(muted));
  };
  $("camera").onclick = async () => {
    const on = $("camera").getAttribute("aria-pressed") !== "true";
    await call.cameraVideo(on);
    $("camera").setAttribute("aria-pressed", String(on));
  };
  $("screen").onclick = async () => {
    const share = !call.hasScreenShare();
    await call.screenShare(share).catch((error) => showError(String(error.message || error)));
    $("screen").setAttribute("aria-pressed", String(call.hasScreenShare()));
  };
  $("layout").onclick = () => setLayout(layoutIndex + 1);
  $("chat-send").onclick = async () => {
    const input = $("chat-input");
    if (!input.value) return;
    await call.dataChannel().send(input.value).catch((error) => showError(String(error.message || error)));
    input.value = "";
  };
}

if (data.state === "ACTIVE") {
  $("start").hidden = false;
  $("name-field").hidden = !data.user.needsName;
  $("password-field").hidden = !data.destination.protected;
  $("start-audio").hidden = !data.initialOptions.audio;
  $("start-video").hidden = !data.initialOptions.video;
  $("start-audio").onclick = () => start(false);
  $("start-video").onclick = () => start(true);
  controls();
  window.addEventListener("pagehide", () => call && call.hangup());
}

window.callLinkPage = { ready: true, events, state: () => data.state, call: () => call, session: () => session && { identity: session.identity } };
