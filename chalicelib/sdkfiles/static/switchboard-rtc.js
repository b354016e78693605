/**
 * Switchboard RTC: the browser SDK for Switchboard's media nodes (https://<api>/sdk/v1/switchboard-rtc.js).
 *
 * A dependency-free ES module; no build step. Its names follow Infobip's `infobip-rtc` 2.x SDK, so code written
 * for that SDK reads the same here:
 *
 *     import { createSwitchboardRtc } from "https://api.example.com/sdk/v1/switchboard-rtc.js";
 *     const rtc = createSwitchboardRtc(token, { nodeUrl: "https://media.example.com" });
 *     rtc.on("incoming-webrtc-call", ({ incomingCall }) => incomingCall.accept());
 *     await rtc.connect();
 *     const call = rtc.callWebrtc("bob", { video: true, remoteVideoElement: document.querySelector("video") });
 *     call.on("established", () => ...);
 *     call.on("hangup", ({ errorCode }) => console.log(errorCode.name));
 *
 *     const room = rtc.joinRoom("standup");
 *     room.on("participant-joined", ({ participant }) => ...);
 *
 * Under the hood: a signalling websocket to the node (`<nodeUrl>/ws`, JSON frames, the protocol in
 * `chalicelib/contract/signalling.py`), and per call (or room seat) one RTCPeerConnection whose offer is POSTed to
 * the node's WHIP URL with the per-leg ticket the node hands out once the call is answered or the room joined.
 * Text over a call and network quality travel on the signalling websocket. Mute, camera, screen share and device
 * switches never renegotiate: `LocalMedia` swaps tracks on the senders (`replaceTrack`); in a 1:1 call each side
 * tells the node what it sends (`media_state`) and the other side hears it ("remote-muted", "remote-screen-share-added"
 * and the like). A 1:1 call survives its signalling connection dropping: the media never used it, the client
 * reconnects and resumes the call ("reconnecting", "reconnected").
 */

export const VERSION = "1.4.0";

export const CallStatus = Object.freeze({
  INITIALIZED: 0,
  CALLING: 1,
  RINGING: 2,
  CONNECTING: 3,
  ESTABLISHED: 4,
  FINISHED: 5,
});

/** Infobip's NetworkQuality: the level the node reports for a link, from its MOS estimate (below GOOD, warn). */
export const NetworkQuality = Object.freeze({
  BAD: 1,
  POOR: 2,
  FAIR: 3,
  GOOD: 4,
  EXCELLENT: 5,
});

const ERROR_CODES = {
  NORMAL_HANGUP: [10000, "The call has ended with hangup initiated by caller, callee or API."],
  ANSWERED_ELSEWHERE: [10001, "The call was answered on another device."],
  DEVICE_FORBIDDEN: [10100, "The user has blocked access to the media device."],
  DEVICE_NOT_FOUND: [10101, "The media device could not be found."],
  DEVICE_UNAVAILABLE: [10102, "The media device is in use or could not be started."],
  MEDIA_ERROR: [10103, "The media session could not be set up."],
  NO_ANSWER: [10200, "The callee did not answer."],
  BUSY: [10201, "The callee is busy."],
  CANCELLED: [10202, "The caller hung up before the call was answered."],
  REJECTED: [10203, "The callee rejected the call."],
  FORBIDDEN: [10300, "The action is not allowed."],
  UNAUTHENTICATED: [10302, "The token is missing, invalid or expired."],
  DESTINATION_NOT_FOUND: [10303, "The destination is not connected."],
  DESTINATION_UNAVAILABLE: [10304, "The destination is unavailable."],
  INVALID_DESTINATION: [10305, "The destination is invalid."],
  INVALID_REQUEST: [10306, "The request is invalid."],
  REQUEST_TIMEOUT: [10307, "The request timed out."],
  NETWORK_ERROR: [10308, "The connection to the media node was lost."],
  SERVICE_UNAVAILABLE: [10309, "The media node is shutting down or unavailable."],
  UNKNOWN: [10310, "Unknown error."],
  FEATURE_UNAVAILABLE: [10311, "The feature is not available."],
};

/** `{id, name, description}` for an error name the node sends (Infobip's ErrorCode shape). */
export function errorCode(name) {
  const [id, description] = ERROR_CODES[name] || [ERROR_CODES.UNKNOWN[0], name || "Unknown error."];
  return Object.freeze({ id, name: name || "UNKNOWN", description });
}

const CLIENT_EVENTS = [
  "connected",
  "disconnected",
  "reconnecting",
  "reconnected",
  "incoming-webrtc-call",
  "incoming-application-call",
  "error",
];
const CALL_EVENTS = [
  "ringing",
  "established",
  "hangup",
  "error",
  "camera-video-added",
  "camera-video-updated",
  "camera-video-removed",
  "screen-share-added",
  "screen-share-removed",
  "remote-camera-video-added",
  "remote-camera-video-removed",
  "remote-screen-share-added",
  "remote-screen-share-removed",
  "remote-muted",
  "remote-unmuted",
  "remote-disconnected",
  "remote-reconnected",
  "reconnecting",
  "reconnected",
  "data-channel-message",
  "network-quality-changed",
  "remote-network-quality-changed",
];
const ROOM_EVENTS = [
  "room-joined",
  "room-left",
  "error",
  "participant-joined",
  "participant-left",
  "participant-media-changed",
  "participant-started-talking",
  "participant-stopped-talking",
  "participant-camera-video-added",
  "participant-camera-video-removed",
  "participant-screen-share-added",
  "participant-screen-share-removed",
  "camera-video-added",
  "camera-video-updated",
  "camera-video-removed",
  "screen-share-added",
  "screen-share-removed",
  "remote-audio-added",
  "network-quality-changed",
  "reconnecting",
  "reconnected",
];
const APPLICATION_CALL_EVENTS = [...CALL_EVENTS, "early-media"];
const DATA_CHANNEL_EVENTS = ["text-delivered", "text-received", "broadcast-text-received"];
const CALLS_CONFIGURATION_ID = /^[a-zA-Z0-9_-]{1,128}$/;
const ROOM_NAME = /^[A-Za-z0-9_.~-]{1,128}$/;
const MAX_TEXT_CHARS = 4096;
const DELIVERY_TIMEOUT_MS = 10000;
const IDENTITY = /^[\p{L}\p{N}\w.\-_+=/]{3,64}$/u;
const DTMF = /^[0-9A-D*#]+$/i;
const DTMF_TONE_MS = 500; // per digit, as infobip-rtc sends them (then the browser's default 70 ms gap)
const HEARTBEAT_MS = 5000;
const HEARTBEAT_TIMEOUT_MS = 15000;
const ICE_GATHERING_TIMEOUT_MS = 3000;
const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 4000];
const RECONNECT_ATTEMPTS = 20;
const FINAL_CLOSE = 4000; // like infobip-rtc: close codes from 4000 end the session for good

class Emitter {
  constructor(events) {
    this._events = events;
    this._handlers = new Map();
  }

  /** Subscribe to `event`; unknown names throw so typos surface at once. */
  on(event, handler) {
    if (!this._events.includes(event)) throw new Error(`Unknown event "${event}"; one of ${this._events.join(", ")}.`);
    if (typeof handler !== "function") throw new TypeError("The handler must be a function.");
    if (!this._handlers.has(event)) this._handlers.set(event, []);
    this._handlers.get(event).push(handler);
  }

  off(event, handler) {
    const handlers = this._handlers.get(event) || [];
    this._handlers.set(
      event,
      handlers.filter((h) => h !== handler),
    );
  }

  _emit(event, payload = {}) {
    for (const handler of this._handlers.get(event) || []) {
      try {
        handler(payload);
      } catch (error) {
        console.error(`switchboard-rtc: a "${event}" handler threw`, error);
      }
    }
  }
}

function mediaErrorName(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "DEVICE_FORBIDDEN";
    case "NotFoundError":
    case "OverconstrainedError":
      return "DEVICE_NOT_FOUND";
    case "NotReadableError":
    case "AbortError":
      return "DEVICE_UNAVAILABLE";
    default:
      return "MEDIA_ERROR";
  }
}

function iceGatheringComplete(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => pc.iceGatheringState === "complete" && done();
    const timer = setTimeout(done, timeoutMs); // send what we have: host candidates come first
    pc.addEventListener("icegatheringstatechange", check);
  });
}

/** The WHIP exchange: POST the offer (with all its candidates) to the node, apply the answer it returns. */
async function whipExchange(pc, whipUrl, ticket, stillWanted) {
  await pc.setLocalDescription(await pc.createOffer());
  await iceGatheringComplete(pc, ICE_GATHERING_TIMEOUT_MS);
  const response = await fetch(whipUrl, {
    method: "POST",
    headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${ticket}` },
    body: pc.localDescription.sdp,
  });
  if (response.status !== 201) throw new Error(`the node refused the offer: ${response.status}`);
  const answer = await response.text();
  if (!stillWanted()) return;
  await pc.setRemoteDescription({ type: "answer", sdp: answer });
}

function newMessageId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
}

/**
 * Text over a call or in a room (`call.dataChannel()`, `room.dataChannel()`), relayed by the node over the signalling
 * connection. Every message is acknowledged end to end: `send()` resolves once the recipients' SDKs have it (in a
 * room: everyone else, or the one participant it is for). Incoming text arrives as this object's "text-received"
 * (and, on a 1:1 call, the call's "data-channel-message"); the SDK acknowledges it by itself. Text the application
 * broadcasts to the call (the Calls API's `broadcast-webrtc-text`) arrives as "broadcast-text-received".
 */
export class DataChannel extends Emitter {
  constructor(call) {
    super(DATA_CHANNEL_EVENTS);
    this._call = call;
    this._pending = new Map(); // messageId -> {resolve, reject, timer}
  }

  /**
   * Send `text` to the other side (in a room: everyone else), or to one participant (`to`: an identity or
   * `{identity}`). Resolves with the message id once the recipients have the text; rejects (`errorCode` on the
   * error) when the node refuses it (`UNKNOWN_PARTICIPANT`: nobody of that identity is there), when nobody received
   * it (`DESTINATION_UNAVAILABLE`: an empty room, or they all left first) or nobody acknowledges it within 10 s.
   */
  send(text, to) {
    const target = to && typeof to === "object" ? to.identity : to;
    if (typeof text !== "string" || text.length > MAX_TEXT_CHARS) {
      return Promise.reject(new TypeError(`The text must be a string of at most ${MAX_TEXT_CHARS} characters.`));
    }
    if (this._call.status() !== CallStatus.ESTABLISHED || !this._call.id()) {
      return Promise.reject(this._failure("INVALID_REQUEST", "Text can be sent once the call is established."));
    }
    const messageId = newMessageId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this._settle(messageId, null, this._failure("REQUEST_TIMEOUT", "The text was not acknowledged.")),
        DELIVERY_TIMEOUT_MS,
      );
      this._pending.set(messageId, { resolve, reject, timer });
      const message = { type: "data", callId: this._call.id(), messageId, text };
      if (target) message.to = target;
      this._call._rtc._send(message);
    });
  }

  _onData(message) {
    this._call._rtc._send({ type: "data_received", callId: this._call.id(), messageId: message.messageId });
    const from = Object.freeze({ type: "WEBRTC", identity: message.from });
    const direct = Boolean(message.direct);
    this._call._emit("data-channel-message", { id: message.messageId, from, text: message.text, direct });
    const received = { id: message.messageId, text: message.text, from, isDirect: direct, date: new Date() };
    this._emit("text-received", received);
  }

  _onDelivered(message) {
    const delivered = message.delivered !== false;
    const failure = delivered ? null : this._failure("DESTINATION_UNAVAILABLE", "Nobody received the text.");
    if (this._settle(message.messageId, message.messageId, failure)) {
      const recipients = message.recipients || (message.to ? [message.to] : []);
      this._emit("text-delivered", { id: message.messageId, date: new Date(), delivered, recipients });
    }
  }

  _onBroadcast(message) {
    this._emit("broadcast-text-received", { text: message.text, date: new Date() });
  }

  /** The node refused a message (its error names the message id); false when the id is not ours. */
  _onError(message) {
    return this._settle(message.requestId, null, this._failure(message.code, message.text));
  }

  _close(name) {
    for (const messageId of [...this._pending.keys()]) {
      this._settle(messageId, null, this._failure(name, "The call ended before the text was delivered."));
    }
  }

  _settle(messageId, value, error) {
    const pending = this._pending.get(messageId);
    if (!pending) return false;
    this._pending.delete(messageId);
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(value);
    return true;
  }

  _failure(name, text) {
    return Object.assign(new Error(text), { errorCode: errorCode(name) });
  }
}

function play(element, stream) {
  if (!element) return;
  element.srcObject = stream;
  const started = element.play && element.play();
  if (started && started.catch) started.catch(() => {}); // autoplay policies: the page can call play() itself
}

/** An `Error` carrying Infobip's `errorCode`, for a media request the browser refused or the call cannot take. */
function mediaFailure(error, text) {
  const name = typeof error === "string" ? error : mediaErrorName(error);
  const failure = new Error(text || (error && error.message) || errorCode(name).description);
  return Object.assign(failure, { errorCode: errorCode(name), cause: typeof error === "string" ? undefined : error });
}

/**
 * What this side sends on a call or a room seat: the microphone, the camera and a shared screen, the mute state,
 * and the devices they come from. Both call types hold one.
 *
 * The tracks outlive peer connections: `attach(pc)` puts them on a new connection's transceivers (a room makes a new
 * one after a reconnect). Every change after that is `replaceTrack` on a sender, never a renegotiation: the node
 * forwards whatever arrives on the leg's video stream, so a shared screen simply takes the camera's place on the
 * video sender, and the camera (if still on) takes it back when sharing stops. Muted audio is a disabled track: the
 * other side hears silence, and a new microphone inherits the state.
 */
class LocalMedia {
  constructor(rtc, emit, options, { screenSection = false } = {}) {
    this._rtc = rtc;
    this._emit = emit;
    this._options = options; // the call's: audio, video, localVideoElement
    this._screenSection = screenSection; // a room's: the screen goes on a send-only section of its own
    this._muted = options.audio === false;
    this._devices = { audio: null, video: null }; // this call's choice; otherwise the client's
    this._transceivers = {}; // kind -> RTCRtpTransceiver of the current peer connection
    this._starting = null; // the first capture, once the call is placed or accepted
    this._stopped = false;
    this.audio = null;
    this.camera = null;
    this.screen = null;
  }

  /** The call's options changed (accept() adds its own). */
  configure(options) {
    this._options = options;
    if (options.audio === false) this._muted = true;
  }

  muted() {
    return this._muted;
  }

  hasCameraVideo() {
    return live(this.camera);
  }

  hasScreenShare() {
    return live(this.screen);
  }

  /** Open the microphone (unless joining muted without it) and, for video calls, the camera: one prompt. */
  start() {
    this._starting = this._open();
    return this._starting;
  }

  async _open() {
    const constraints = {
      audio: this._muted && this._options.audio === false ? false : this._constraint("audio"),
      video: this._options.video ? this._constraint("video") : false,
    };
    if (!constraints.audio && !constraints.video) return;
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    if (this._stopped) return stream.getTracks().forEach((track) => track.stop());
    this.audio = stream.getAudioTracks()[0] || this.audio;
    this.camera = stream.getVideoTracks()[0] || this.camera;
    if (this.audio) this.audio.enabled = !this._muted;
    if (this.camera) play(this._options.localVideoElement, new MediaStream([this.camera]));
  }

  /** Put the tracks on a new peer connection: an audio transceiver, and a video one for video calls (in a room, a
   * send-only one for the screen after it). */
  attach(pc) {
    const video = this._screenSection ? this.camera : this.screen || this.camera;
    const streams = [new MediaStream([this.audio, video].filter(Boolean))];
    this._transceivers = { audio: pc.addTransceiver(this.audio || "audio", { direction: "sendrecv", streams }) };
    if (this._options.video) {
      this._transceivers.video = pc.addTransceiver(video || "video", { direction: "sendrecv", streams });
    }
    if (this._options.video && this._screenSection) {
      this._transceivers.screen = pc.addTransceiver(this.screen || "video", { direction: "sendonly" });
    }
  }

  async mute(shouldMute) {
    this._muted = Boolean(shouldMute);
    if (!this._muted && this._starting) await this._starting.catch(() => {}); // it may bring the microphone
    if (!this._muted && !this.audio && this._starting) {
      const track = await this._capture("audio");
      this.audio = track;
      await this._send("audio", track);
    }
    if (this.audio) this.audio.enabled = !this._muted;
  }

  /** Capture from another microphone mid-call; the new one takes the old one's place (and mute state). */
  async setAudioInputDevice(deviceId) {
    if (!this.audio) {
      this._devices.audio = deviceId; // nothing captured yet (joined muted): the next capture uses it
      return;
    }
    const track = await this._capture("audio", deviceId);
    this._devices.audio = deviceId;
    track.enabled = !this._muted;
    const old = this.audio;
    this.audio = track;
    await this._send("audio", track);
    old.stop();
  }

  /** Capture from another camera mid-call (while sharing the screen, the new camera waits for its turn). */
  async setVideoInputDevice(deviceId) {
    this._requireVideo("This call has no video; start or accept it with video: true.");
    if (!this.camera) {
      this._devices.video = deviceId; // camera off: the next cameraVideo(true) uses it
      return;
    }
    const track = await this._capture("video", deviceId);
    this._devices.video = deviceId;
    const old = this.camera;
    this.camera = track;
    if (!this.screen || this._screenSection) await this._send("video", track);
    old.stop();
    play(this._options.localVideoElement, new MediaStream([track]));
    this._emit("camera-video-updated", { stream: new MediaStream([track]) });
  }

  async cameraVideo(cameraVideo) {
    this._requireVideo("This call has no video; start or accept it with video: true.");
    if (cameraVideo && !this.hasCameraVideo()) {
      const track = await this._capture("video");
      this.camera = track;
      if (!this.screen || this._screenSection) await this._send("video", track);
      play(this._options.localVideoElement, new MediaStream([track]));
      this._emit("camera-video-added", { stream: new MediaStream([track]) });
    } else if (!cameraVideo && this.camera) {
      const old = this.camera;
      this.camera = null;
      if (!this.screen || this._screenSection) await this._send("video", null);
      old.stop();
      if (this._options.localVideoElement) this._options.localVideoElement.srcObject = null;
      this._emit("camera-video-removed", {});
    }
  }

  /** Share a screen, window or tab (the browser asks which) in the camera's place (in a room: beside it, on its own
   * section); false gives the camera back. */
  async screenShare(share) {
    this._requireVideo("Screen share needs a video call: start or accept the call with video: true.");
    if (share && !this.hasScreenShare()) {
      let stream;
      try {
        stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      } catch (error) {
        throw mediaFailure(error);
      }
      const track = stream.getVideoTracks()[0];
      if (this._stopped) return track.stop();
      track.contentHint = "detail"; // text stays sharp: the encoder lowers the frame rate before the resolution
      track.addEventListener("ended", () => this.screen === track && this._stopSharing("USER_REQUEST"));
      this.screen = track;
      await this._send(this._screenSection ? "screen" : "video", track);
      this._emit("screen-share-added", { stream: new MediaStream([track]) });
    } else if (!share && this.screen) {
      await this._stopSharing("USER_REQUEST");
    }
  }

  /** Release every device (the call ended). */
  stop() {
    this._stopped = true;
    for (const track of [this.audio, this.camera, this.screen]) if (track) track.stop();
    if (this._options.localVideoElement) this._options.localVideoElement.srcObject = null;
  }

  async _stopSharing(reason) {
    const track = this.screen;
    this.screen = null;
    await (this._screenSection ? this._send("screen", null) : this._send("video", this.camera));
    track.stop();
    this._emit("screen-share-removed", { reason });
  }

  async _capture(kind, deviceId = this._devices[kind]) {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ [kind]: this._constraint(kind, deviceId) });
    } catch (error) {
      throw mediaFailure(error);
    }
    const track = stream.getTracks()[0];
    if (this._stopped) {
      track.stop();
      throw mediaFailure("INVALID_REQUEST", "The call has ended.");
    }
    return track;
  }

  _constraint(kind, deviceId = this._devices[kind]) {
    const device = deviceId || (kind === "audio" ? this._rtc._audioInputDevice : this._rtc._videoInputDevice);
    return device ? { deviceId: { exact: device } } : true;
  }

  async _send(kind, track) {
    const transceiver = this._transceivers[kind];
    if (transceiver && transceiver.currentDirection !== "stopped") await transceiver.sender.replaceTrack(track);
  }

  _requireVideo(text) {
    if (!this._options.video) throw mediaFailure("FEATURE_UNAVAILABLE", text);
  }
}

function live(track) {
  return Boolean(track && track.readyState === "live");
}

const RECORDING_TYPES = ["UNDEFINED", "AUDIO", "AUDIO_AND_VIDEO"];

/**
 * A WebRTC call's `recordingOptions` ({recordingType: "UNDEFINED" | "AUDIO" | "AUDIO_AND_VIDEO"}, Infobip's option)
 * as the node's message wants it; a bad value throws here rather than at the node.
 */
function checkedRecordingOptions(options) {
  const recording = options.recordingOptions;
  if (recording === undefined || recording === null) return {};
  const recordingType = recording.recordingType === undefined ? "UNDEFINED" : recording.recordingType;
  if (typeof recording !== "object" || !RECORDING_TYPES.includes(recordingType)) {
    throw new TypeError(`recordingOptions.recordingType must be one of ${RECORDING_TYPES.join(", ")}.`);
  }
  return { recordingOptions: { recordingType } };
}

/**
 * A 1:1 call with another identity. Outgoing calls come from `rtc.callWebrtc()`; incoming ones arrive with the
 * client's "incoming-webrtc-call" event and add `accept()` and `decline()`.
 */
export class WebrtcCall extends Emitter {
  constructor(rtc, { incoming, counterpart, options = {}, id = null }) {
    super(CALL_EVENTS);
    this._rtc = rtc;
    this._incoming = incoming;
    this._counterpart = Object.freeze({ type: "WEBRTC", ...counterpart });
    this._options = { audio: true, video: false, ...options };
    this._id = id;
    this._status = incoming ? CallStatus.RINGING : CallStatus.INITIALIZED;
    this._startTime = new Date();
    this._establishTime = undefined;
    this._endTime = undefined;
    this._ended = false;
    const emit = (event, payload) => {
      if (this._ended) return;
      if (/^(camera-video-(added|removed)|screen-share-)/.test(event)) this._sendMediaState(); // also the browser's UI
      this._emit(event, payload);
    };
    this._local = new LocalMedia(rtc, emit, this._options);
    this._remoteStream = new MediaStream();
    this._remoteVideo = null;
    this._remoteState = { muted: false, camera: Boolean(this._options.video), screenShare: false }; // remote_media
    this._remoteShown = null; // "camera-video" | "screen-share": what the remote video was announced as
    this._reconnecting = false;
    this._pc = null;
    this._media = null; // the promise of local media, started by call or accept
    this._nodeEstablished = false;
    this._remoteAudioReady = false;
    this._ownAudioElement = null;
    this._dataChannel = new DataChannel(this);
    this._networkQuality = null;
    this._remoteNetworkQuality = null;
  }

  // --- what the application asks ---------------------------------------------------------------------------

  id() {
    return this._id;
  }

  options() {
    return { ...this._options };
  }

  /** Text over this call: `dataChannel().send(text)`. */
  dataChannel() {
    return this._dataChannel;
  }

  /** The last `NetworkQuality` the node reported for this side's link (null before the first report). */
  networkQuality() {
    return this._networkQuality;
  }

  /** The last `NetworkQuality` the node reported for the other side's link. */
  remoteNetworkQuality() {
    return this._remoteNetworkQuality;
  }

  status() {
    return this._status;
  }

  counterpart() {
    return this._counterpart;
  }

  source() {
    return this._incoming ? this._counterpart : this._rtc.connectedUser();
  }

  destination() {
    return this._incoming ? this._rtc.connectedUser() : this._counterpart;
  }

  startTime() {
    return this._startTime;
  }

  establishTime() {
    return this._establishTime;
  }

  endTime() {
    return this._endTime;
  }

  /** Whole seconds since the call was established (0 before), up to its end. */
  duration() {
    if (!this._establishTime) return 0;
    return Math.floor(((this._endTime || new Date()) - this._establishTime) / 1000);
  }

  /** The RTCPeerConnection carrying this call's media, once the node has answered (for getStats()). */
  peerConnection() {
    return this._pc;
  }

  /** The remote side's media: audio, and camera video when the call has it. */
  remoteStream() {
    return this._remoteStream;
  }

  muted() {
    return this._local.muted();
  }

  /** Stop (true) or resume (false) sending microphone audio. Muted audio goes out as silence; the other side of
   * a 1:1 call gets "remote-muted" ("remote-unmuted"). */
  async mute(shouldMute) {
    await this._local.mute(shouldMute);
    this._sendMediaState();
  }

  /**
   * Press keys: `dtmf` (`0-9`, `*`, `#`, `A-D`) goes to the other side as RFC 4733 telephone-events on the call's
   * audio (`RTCRtpSender.dtmf`), after any still being sent. Resolves once queued; rejects with INVALID_REQUEST for
   * other characters and MEDIA_ERROR while the call's media is not connected.
   */
  sendDTMF(dtmf) {
    const digits = String(dtmf);
    if (!DTMF.test(digits)) {
      return Promise.reject(mediaFailure("INVALID_REQUEST", `Invalid DTMF "${dtmf}"; use 0-9, *, #, A-D.`));
    }
    const sender = this._pc && this._pc.getSenders().find((candidate) => candidate.dtmf);
    if (!sender || !sender.dtmf.canInsertDTMF) {
      return Promise.reject(mediaFailure("MEDIA_ERROR", "The call's media is not connected; DTMF cannot be sent yet."));
    }
    sender.dtmf.insertDTMF(sender.dtmf.toneBuffer + digits.toUpperCase(), DTMF_TONE_MS);
    return Promise.resolve();
  }

  /** Capture from another microphone (a `deviceId` from `getAudioInputDevices()`), mid-call; mute state stays. */
  setAudioInputDevice(deviceId) {
    return this._local.setAudioInputDevice(deviceId);
  }

  /** Capture from another camera, mid-call ("camera-video-updated"). The call must have video. */
  setVideoInputDevice(deviceId) {
    return this._local.setVideoInputDevice(deviceId);
  }

  hasCameraVideo() {
    return this._local.hasCameraVideo();
  }

  /**
   * Share a screen, window or tab (true) in place of the camera, or stop (false) and send the camera again. The
   * call must have video (without a video m-line there is nothing to send it on: the promise rejects).
   */
  screenShare(share) {
    return this._local.screenShare(share);
  }

  startScreenShare() {
    return this.screenShare(true);
  }

  stopScreenShare() {
    return this.screenShare(false);
  }

  hasScreenShare() {
    return this._local.hasScreenShare();
  }

  /** The other side's camera is what its video shows now ("remote-camera-video-added"). */
  hasRemoteCameraVideo() {
    return this._remoteShown === "camera-video";
  }

  /** The other side shares its screen, in its camera's place ("remote-screen-share-added"). */
  hasRemoteScreenShare() {
    return this._remoteShown === "screen-share";
  }

  /** The other side's microphone is muted ("remote-muted"). */
  remoteMuted() {
    return this._remoteState.muted;
  }

  /** Turn the camera on or off. The call must have been started (or accepted) with `video: true`. */
  cameraVideo(cameraVideo) {
    return this._local.cameraVideo(cameraVideo);
  }

  hangup() {
    if (this._ended) return;
    if (this._reconnecting) {
      this._hangupWhenResumed = true; // the node hears it once the connection is back
    } else if (this._id) {
      this._rtc._send({ type: "hangup", callId: this._id });
    } else {
      this._hangupWhenStarted = true;
      if (!this._requestId) this._end("CANCELLED"); // the call never left this page
    }
  }

  /** Answer an incoming call. Options as for `callWebrtc` (`recordingOptions` too: what this side asks recorded). */
  accept(options = {}) {
    this._requireIncoming();
    const recordingOptions = checkedRecordingOptions(options);
    this._options = { ...this._options, ...options };
    this._local.configure(this._options);
    this._media = this._local.start();
    this._media.then(
      () => !this._ended && this._rtc._send({ type: "accept", callId: this._id, ...recordingOptions }),
      (error) => this._failMedia(error),
    );
  }

  decline() {
    this._requireIncoming();
    if (!this._ended) this._rtc._send({ type: "decline", callId: this._id });
  }

  // --- what the node tells us -------------------------------------------------------------------------------

  _place(requestId) {
    this._requestId = null;
    this._status = CallStatus.CALLING;
    this._media = this._local.start();
    this._media.then(
      () => {
        if (this._ended) return;
        this._requestId = requestId;
        this._rtc._send(this._request(requestId));
      },
      (error) => this._failMedia(error),
    );
  }

  /** What asks the node to place this call. */
  _request(requestId) {
    const request = { type: "call", requestId, to: this._counterpart.identity, video: Boolean(this._options.video) };
    return { ...request, ...checkedRecordingOptions(this._options) };
  }

  _onStarted(callId) {
    this._id = callId;
    if (this._hangupWhenStarted) this.hangup();
  }

  _onRinging() {
    this._status = CallStatus.RINGING;
    this._emit("ringing", {});
  }

  _onEstablished() {
    this._status = CallStatus.CONNECTING;
    this._nodeEstablished = true;
    const local = this._local;
    const camera = !this._options.video || local.hasCameraVideo();
    if (local.muted() || !camera || local.hasScreenShare()) this._sendMediaState(); // not what the node assumes
    this._maybeEstablished();
  }

  /** Tell the node what this side sends (the other side of a 1:1 call hears about it). */
  _sendMediaState() {
    if (!this._id || this._ended) return;
    const video = Boolean(this._options.video);
    this._rtc._send({
      type: "media_state",
      callId: this._id,
      muted: this._local.muted(),
      camera: video && this._local.hasCameraVideo(),
      screenShare: video && this._local.hasScreenShare(),
    });
  }

  /** What the other side sends now (`remote_media`). */
  _onRemoteMedia({ muted, camera, screenShare }) {
    if (this._ended) return;
    const wasMuted = this._remoteState.muted;
    this._remoteState = { muted: Boolean(muted), camera: Boolean(camera), screenShare: Boolean(screenShare) };
    if (wasMuted !== this._remoteState.muted) this._emit(muted ? "remote-muted" : "remote-unmuted", {});
    this._showRemoteVideo();
  }

  _onRemoteConnection({ connected }) {
    if (!this._ended) this._emit(connected ? "remote-reconnected" : "remote-disconnected", {});
  }

  /** Survives a signalling drop: established with another identity (its media never used the websocket). */
  _resumable() {
    return this._nodeEstablished && !this._ended;
  }

  /** The signalling connection dropped; the media goes on while the client reconnects and resumes the call. */
  _onConnectionLost() {
    if (this._reconnecting) return;
    this._reconnecting = true;
    this._emit("reconnecting", {});
  }

  /** The node has given the call back to this connection (`call_resumed`). */
  _onResumed() {
    this._reconnecting = false;
    if (this._ended) return;
    if (this._hangupWhenResumed) return this._rtc._send({ type: "hangup", callId: this._id });
    this._sendMediaState(); // what changed while the connection was down
    this._emit("reconnected", {});
  }

  async _onMedia({ whipUrl, ticket }) {
    try {
      await this._media;
      if (this._ended) return;
      const pc = new RTCPeerConnection(this._rtc._peerConfiguration());
      this._pc = pc;
      this._local.attach(pc);
      pc.ontrack = ({ track }) => this._onRemoteTrack(track);
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === "failed" && !this._ended) this._fail("NETWORK_ERROR");
      };
      await whipExchange(pc, whipUrl, ticket, () => !this._ended);
    } catch (error) {
      if (!this._ended) {
        console.error("switchboard-rtc: media setup failed", error);
        this._fail("MEDIA_ERROR");
      }
    }
  }

  _onNetworkQuality({ networkQuality, mos }) {
    const level = NetworkQuality[networkQuality];
    if (!level || this._ended) return;
    this._networkQuality = level;
    this._emit("network-quality-changed", { networkQuality: level, mos, currentMediaStats: { mos } });
  }

  _onRemoteNetworkQuality({ networkQuality }) {
    const level = NetworkQuality[networkQuality];
    if (!level || this._ended) return;
    this._remoteNetworkQuality = level;
    this._emit("remote-network-quality-changed", { networkQuality: level });
  }

  _onRemoteTrack(track) {
    this._remoteStream.addTrack(track);
    if (track.kind === "audio") {
      const element = this._options.remoteAudioElement || (this._ownAudioElement ||= newAudioElement());
      play(element, new MediaStream([track]));
      this._remoteAudioReady = true;
      this._maybeEstablished();
      return;
    }
    // remote video tracks start muted and unmute when frames arrive; they mute again when frames stop
    this._remoteVideo = track;
    track.addEventListener("unmute", () => this._showRemoteVideo());
    track.addEventListener("mute", () => this._showRemoteVideo());
    this._showRemoteVideo();
  }

  /** Announce what the remote video shows now: frames arriving are the other side's screen while it says it
   * shares one, else its camera (unless it said the camera is off); no frames, nothing. */
  _showRemoteVideo() {
    const track = this._remoteVideo;
    const frames = Boolean(track && !track.muted && track.readyState === "live");
    const { camera, screenShare } = this._remoteState;
    const shown = !frames ? null : screenShare ? "screen-share" : camera ? "camera-video" : null;
    if (this._ended || shown === this._remoteShown) return;
    if (this._remoteShown) this._emit(`remote-${this._remoteShown}-removed`, {});
    this._remoteShown = shown;
    if (!shown) return;
    play(this._options.remoteVideoElement, new MediaStream([track]));
    this._emit(`remote-${shown}-added`, { stream: new MediaStream([track]) });
  }

  _maybeEstablished() {
    if (this._ended || this._status === CallStatus.ESTABLISHED) return;
    if (!this._nodeEstablished || !this._remoteAudioReady) return;
    this._status = CallStatus.ESTABLISHED;
    this._establishTime = new Date();
    this._emit("established", { stream: this._remoteStream });
  }

  /** Local failure: tell the node (so the other side hears about it too), then end here. */
  _fail(name) {
    this._emit("error", { errorCode: errorCode(name) });
    if (this._id) this._rtc._send({ type: "hangup", callId: this._id });
    this._end(name);
  }

  _failMedia(error) {
    console.error("switchboard-rtc: could not get local media", error);
    this._fail(mediaErrorName(error));
  }

  _end(name) {
    if (this._ended) return;
    this._ended = true;
    this._status = CallStatus.FINISHED;
    this._endTime = new Date();
    if (this._pc) this._pc.close();
    this._local.stop();
    for (const element of [
      this._options.remoteVideoElement,
      this._options.remoteAudioElement,
      this._ownAudioElement,
    ]) {
      if (element) element.srcObject = null;
    }
    this._rtc._forget(this);
    this._dataChannel._close(name);
    this._emit("hangup", { errorCode: errorCode(name) });
  }

  // --- internals --------------------------------------------------------------------------------------------

  _requireIncoming() {
    if (!this._incoming) throw new Error("Only incoming calls can be accepted or declined.");
  }
}

/**
 * A call with an application (`rtc.callApplication(callsConfigurationId)`): the application learns about it
 * (CALL_RECEIVED at its webhook) and handles it with the Calls API — rings (`ringing`), pre-answers (the call's
 * media starts before it is answered: "early-media"), answers ("established"), plays, says, captures digits, hangs
 * up. Calls an application places to this identity arrive as the client's "incoming-application-call" and add
 * `accept()` and `decline()`. Media methods and events are those of `WebrtcCall`.
 */
export class ApplicationCall extends WebrtcCall {
  constructor(rtc, { incoming, callsConfigurationId, counterpart, options = {}, id = null, customData = {} }) {
    super(rtc, { incoming, counterpart, options, id });
    this._events = APPLICATION_CALL_EVENTS;
    this._callsConfigurationId = callsConfigurationId;
    this._customData = Object.freeze({ ...customData });
  }

  callsConfigurationId() {
    return this._callsConfigurationId;
  }

  _sendMediaState() {} // the application has no other side to tell

  _resumable() {
    return false; // the node ends an application's call when its connection drops
  }

  customData() {
    return this._customData;
  }

  /** Who placed an incoming application call (the application's `from`, or the configuration). */
  from() {
    return this._counterpart.identity;
  }

  fromDisplayName() {
    return this._counterpart.displayName || this._counterpart.identity;
  }

  _request(requestId) {
    const request = {
      type: "call_application",
      requestId,
      callsConfigurationId: this._callsConfigurationId,
      video: Boolean(this._options.video),
    };
    if (Object.keys(this._customData).length) request.customData = this._customData;
    return request;
  }

  _onRemoteTrack(track) {
    super._onRemoteTrack(track);
    if (track.kind === "audio" && !this._nodeEstablished && !this._ended) {
      this._emit("early-media", { stream: this._remoteStream });
    }
  }
}

/**
 * A room (`rtc.joinRoom(name)`): everyone hears the mix of the others, never themselves. Joined with `video: true`,
 * the others see this camera and this side sees theirs: the seat's connection offers the camera and then a fixed
 * number of receive-only video slots (the node says how many: `room_joined.videoSlots`); the node forwards one
 * participant's camera on each slot and says which (`video_slots`), so nothing is renegotiated when participants
 * come, go or switch their camera. Participants beyond the slots are not shown.
 * If the connection to the node drops, the client reconnects and takes back this seat with new media
 * ("reconnecting", then "reconnected"); the node keeps a seat for 10 s.
 */
export class RoomCall extends Emitter {
  constructor(rtc, name, options = {}) {
    super(ROOM_EVENTS);
    this._rtc = rtc;
    this._name = name;
    this._options = { audio: true, ...options, video: Boolean(options.video) };
    this._id = null;
    this._status = CallStatus.INITIALIZED;
    this._participants = new Map(); // identity -> {identity, displayName}
    this._joinTime = undefined;
    this._leaveTime = undefined;
    this._ended = false;
    const emit = (event, payload) => {
      if (this._ended) return;
      if (event.startsWith("screen-share-")) this._sendMediaState(); // also when the browser's own UI stops it
      this._emit(event, payload);
    };
    this._local = new LocalMedia(rtc, emit, this._options, { screenSection: true });
    this._remoteStream = new MediaStream();
    this._pc = null;
    this._media = null;
    this._ownAudioElement = null;
    this._networkQuality = null;
    this._slotCount = 0; // receive-only video sections to offer (room_joined.videoSlots)
    this._videoSlots = new Map(); // mid -> {identity, source} shown on it ("camera" or "screen")
    this._shown = new Map(); // identity -> {mid, stream}: what "participant-camera-video-added" announced
    this._shownScreens = new Map(); // identity -> {mid, stream}: what "participant-screen-share-added" announced
    this._dataChannel = new DataChannel(this);
  }

  /** Text in the room: `dataChannel().send(text)` to everyone else, `send(text, identity)` to one participant. */
  dataChannel() {
    return this._dataChannel;
  }

  id() {
    return this._id;
  }

  name() {
    return this._name;
  }

  options() {
    return { ...this._options };
  }

  status() {
    return this._status;
  }

  joinTime() {
    return this._joinTime;
  }

  leaveTime() {
    return this._leaveTime;
  }

  /** Whole seconds since the room was joined (0 before), up to leaving it. */
  duration() {
    if (!this._joinTime) return 0;
    return Math.floor(((this._leaveTime || new Date()) - this._joinTime) / 1000);
  }

  /** The others in the room: `[{identity, displayName}]`. */
  participants() {
    return [...this._participants.values()];
  }

  /** The mix of everyone else's audio (its track changes after a reconnect: see "remote-audio-added"). */
  remoteStream() {
    return this._remoteStream;
  }

  /** The RTCPeerConnection carrying this seat's audio, once media is set up (a new one after a reconnect). */
  peerConnection() {
    return this._pc;
  }

  networkQuality() {
    return this._networkQuality;
  }

  muted() {
    return this._local.muted();
  }

  /** Stop (true) or resume (false) sending microphone audio; the others hear silence from you and get
   * `participant-media-changed`. */
  async mute(shouldMute) {
    await this._local.mute(shouldMute);
    this._sendMediaState();
  }

  _sendMediaState() {
    if (!this._id) return;
    const camera = Boolean(this._options.video) && this._local.hasCameraVideo();
    const screenShare = Boolean(this._options.video) && this._local.hasScreenShare();
    this._rtc._send({ type: "media_state", callId: this._id, muted: this._local.muted(), camera, screenShare });
  }

  /** Capture from another microphone, mid-room; mute state stays. */
  setAudioInputDevice(deviceId) {
    return this._local.setAudioInputDevice(deviceId);
  }

  /** Turn the camera on (true) or off (false) in a room joined with video; the others stop (or start) seeing it
   * and get `participant-media-changed` and `participant-camera-video-removed` (or `-added`). */
  async cameraVideo(cameraVideo) {
    await this._local.cameraVideo(cameraVideo);
    this._sendMediaState();
  }

  hasCameraVideo() {
    return this._local.hasCameraVideo();
  }

  /** Capture from another camera, mid-room. */
  setVideoInputDevice(deviceId) {
    return this._local.setVideoInputDevice(deviceId);
  }

  /**
   * Share a screen, window or tab (true; the browser asks which) or stop (false), in a room joined with video: the
   * others see it beside the camera, on one of their video slots ("participant-screen-share-added"), screen shares
   * before cameras.
   */
  screenShare(share) {
    return this._local.screenShare(share);
  }

  startScreenShare() {
    return this.screenShare(true);
  }

  stopScreenShare() {
    return this.screenShare(false);
  }

  hasScreenShare() {
    return this._local.hasScreenShare();
  }

  /** The others' screen shares this side shows now: `[{participant, stream}]`. */
  participantScreenShares() {
    return [...this._shownScreens.entries()].map(([identity, { stream }]) => ({
      participant: this._participantOf(identity),
      stream,
    }));
  }

  /** The others' cameras this side shows now: `[{participant, stream}]` (as "participant-camera-video-added"). */
  participantVideos() {
    return [...this._shown.entries()].map(([identity, { stream }]) => ({
      participant: this._participantOf(identity),
      stream,
    }));
  }

  leave() {
    if (this._ended) return;
    if (this._id) this._rtc._send({ type: "leave_room", callId: this._id });
    this._end("NORMAL_HANGUP");
  }

  /** The same as `leave()`, for code written against calls. */
  hangup() {
    this.leave();
  }

  // --- what the node tells us -------------------------------------------------------------------------------

  _join(requestId) {
    this._status = CallStatus.CALLING;
    this._media = this._local.start();
    this._media.then(
      () =>
        !this._ended &&
        this._rtc._send({ type: "join_room", requestId, room: this._name, video: Boolean(this._options.video) }),
      (error) => {
        console.error("switchboard-rtc: could not get local media", error);
        this._fail(mediaErrorName(error));
      },
    );
  }

  _onJoined(message) {
    this._participants = new Map(message.participants.map((p) => [p.identity, Object.freeze({ ...p })]));
    this._slotCount = this._options.video ? message.videoSlots || 0 : 0;
    if (this._id) {
      this._status = CallStatus.ESTABLISHED;
      this._emit("reconnected", {});
      return;
    }
    this._id = message.callId;
    this._status = CallStatus.ESTABLISHED;
    this._joinTime = new Date();
    this._emit("room-joined", {
      id: this._id,
      name: message.room,
      participants: this.participants(),
      stream: this._remoteStream,
    });
  }

  _onParticipant(message) {
    const participant = Object.freeze({
      identity: message.participant.identity,
      displayName: message.participant.displayName || message.participant.identity,
      muted: Boolean(message.participant.muted),
      camera: Boolean(message.participant.camera),
      screenShare: Boolean(message.participant.screenShare),
    });
    switch (message.type) {
      case "participant_joined":
        this._participants.set(participant.identity, participant);
        return this._emit("participant-joined", { participant });
      case "participant_left":
        this._participants.delete(participant.identity);
        return this._emit("participant-left", { participant });
      case "participant_talking":
        return this._emit(`participant-${message.talking ? "started" : "stopped"}-talking`, { participant });
      case "participant_media_changed":
        this._participants.set(participant.identity, participant);
        return this._emit("participant-media-changed", { participant });
      default:
        return;
    }
  }

  async _onMedia({ whipUrl, ticket }) {
    try {
      await this._media;
      if (this._ended) return;
      if (this._pc) this._pc.close(); // a new media session after a reconnect: the old one is gone
      const pc = new RTCPeerConnection(this._rtc._peerConfiguration());
      this._pc = pc;
      this._local.attach(pc);
      for (let slot = 0; slot < this._slotCount; slot++) pc.addTransceiver("video", { direction: "recvonly" });
      pc.ontrack = ({ track }) => {
        if (this._pc !== pc) return;
        if (track.kind === "audio") this._onRemoteTrack(track);
        else this._showVideo();
      };
      await whipExchange(pc, whipUrl, ticket, () => !this._ended && this._pc === pc);
    } catch (error) {
      if (!this._ended) {
        console.error("switchboard-rtc: media setup failed", error);
        this._fail("MEDIA_ERROR");
      }
    }
  }

  _onRemoteTrack(track) {
    for (const old of this._remoteStream.getTracks()) this._remoteStream.removeTrack(old);
    this._remoteStream.addTrack(track);
    const stream = new MediaStream([track]);
    play(this._options.remoteAudioElement || (this._ownAudioElement ||= newAudioElement()), stream);
    this._emit("remote-audio-added", { stream });
  }

  /** Which participant each video slot shows now (`video_slots`, after every change). */
  _onVideoSlots(message) {
    this._videoSlots = new Map(
      message.slots.map((slot) => [slot.mid, { identity: slot.identity || null, source: slot.source || "camera" }]),
    );
    this._showVideo();
  }

  /** Announce the cameras that came onto a slot (or moved) and those that went, as the slots and tracks say. */
  _showVideo() {
    const tracks = new Map(); // mid -> receiving track of this connection
    for (const { mid, receiver } of this._pc ? this._pc.getTransceivers() : []) {
      if (mid !== null && receiver.track) tracks.set(mid, receiver.track);
    }
    this._announce(tracks, "camera", this._shown, "participant-camera-video");
    this._announce(tracks, "screen", this._shownScreens, "participant-screen-share");
  }

  _announce(tracks, source, shown, event) {
    const wanted = new Map(); // identity -> mid
    for (const [mid, slot] of this._videoSlots) {
      if (slot.identity && slot.source === source && tracks.has(mid)) wanted.set(slot.identity, mid);
    }
    for (const [identity, { mid }] of [...shown]) {
      if (wanted.get(identity) === mid) continue;
      shown.delete(identity);
      if (!this._ended) this._emit(`${event}-removed`, { participant: this._participantOf(identity) });
    }
    for (const [identity, mid] of wanted) {
      if (shown.has(identity)) continue;
      const stream = new MediaStream([tracks.get(mid)]);
      shown.set(identity, { mid, stream });
      this._emit(`${event}-added`, { participant: this._participantOf(identity), stream });
    }
  }

  _participantOf(identity) {
    return this._participants.get(identity) || Object.freeze({ identity, displayName: identity });
  }

  _onNetworkQuality({ networkQuality, mos }) {
    const level = NetworkQuality[networkQuality];
    if (!level || this._ended) return;
    this._networkQuality = level;
    this._emit("network-quality-changed", { networkQuality: level, mos, currentMediaStats: { mos } });
  }

  /** The signalling connection dropped; media goes with it until the seat is taken back. */
  _onConnectionLost() {
    if (this._ended) return;
    if (!this._id) return this._end("NETWORK_ERROR"); // the node never seated us: nothing to take back
    this._status = CallStatus.CONNECTING;
    if (this._pc) this._pc.close();
    this._pc = null;
    this._videoSlots = new Map();
    this._showVideo(); // the others' cameras come back with the new connection's slots
    this._emit("reconnecting", {});
  }

  _fail(name) {
    this._emit("error", { errorCode: errorCode(name) });
    if (this._id) this._rtc._send({ type: "leave_room", callId: this._id });
    this._end(name);
  }

  _end(name) {
    if (this._ended) return;
    this._ended = true;
    this._status = CallStatus.FINISHED;
    this._leaveTime = new Date();
    if (this._pc) this._pc.close();
    this._local.stop();
    for (const element of [this._options.remoteAudioElement, this._ownAudioElement]) {
      if (element) element.srcObject = null;
    }
    this._rtc._forget(this);
    this._dataChannel._close(name);
    this._emit("room-left", { errorCode: errorCode(name) });
  }

}

function newAudioElement() {
  const element = new Audio();
  element.autoplay = true;
  return element;
}

/** The media node a token names (its `location` claim), read without verifying: only the node verifies tokens. */
function tokenLocation(token) {
  try {
    const payload = String(token).split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload + "===".slice((payload.length + 3) % 4))).location || null;
  } catch {
    return null;
  }
}

/** One identity's connection to a media node. Create it with `createSwitchboardRtc`. */
export class SwitchboardRtc extends Emitter {
  constructor(token, options = {}) {
    super(CLIENT_EVENTS);
    if (!token) throw new Error("A token is required; mint one with POST /webrtc/1/token.");
    const nodeUrl = options.nodeUrl || tokenLocation(token);
    if (!nodeUrl) throw new Error("No media node: the token names none (location) and options.nodeUrl is not set.");
    this._token = token;
    this._nodeUrl = String(nodeUrl).replace(/\/+$/, "");
    this._iceServers = options.iceServers || [];
    this._iceTransportPolicy = options.iceTransportPolicy || "all";
    this._ws = null;
    this._user = null;
    this._calls = new Map(); // by call id, and by request id until the node names the call
    this._activeCall = null;
    this._requestIds = 0;
    this._wanted = false;
    this._audioInputDevice = null;
    this._videoInputDevice = null;
  }

  /** Open the signalling connection; resolves once the node has registered this identity. */
  connect() {
    if (this.isConnected()) return Promise.resolve();
    this._wanted = true;
    return this._open().then(() => this._emit("connected", { identity: this._user.identity }));
  }

  disconnect() {
    this._wanted = false;
    if (this._activeCall) this._activeCall.hangup(); // a room's hangup() leaves it
    this._endCalls("NORMAL_HANGUP");
    this._close(FINAL_CLOSE, "USER_DISCONNECT");
  }

  isConnected() {
    return Boolean(this._ws && this._ws.readyState === WebSocket.OPEN && this._user);
  }

  /** `{identity}` of the connected user (the identity in the token). */
  connectedUser() {
    return this._user;
  }

  /**
   * Join (or open) the room `roomName`: you hear everyone else in it, they hear you. Returns a `RoomCall` at once;
   * follow it through its events ("room-joined", "participant-joined", ...). With `video: true` the others see
   * your camera and you get theirs ("participant-camera-video-added").
   */
  joinRoom(roomName, options = {}) {
    if (!ROOM_NAME.test(String(roomName))) throw new Error(`Invalid room name "${roomName}".`);
    if (!this.isConnected()) throw new Error("Not connected; call connect() first.");
    if (this._activeCall) throw new Error("Call already in progress.");
    const room = new RoomCall(this, String(roomName), options);
    const requestId = String(++this._requestIds);
    this._calls.set(`request:${requestId}`, room);
    this._activeCall = room;
    room._join(requestId);
    return room;
  }

  /**
   * Call an application (its calls configuration id). Returns an `ApplicationCall` at once; the application
   * answers it (or not) with the Calls API. options: as for `callWebrtc`, plus `customData` (string values; the
   * application gets it with CALL_RECEIVED).
   */
  callApplication(callsConfigurationId, options = {}) {
    if (!CALLS_CONFIGURATION_ID.test(String(callsConfigurationId))) {
      throw new Error(`Invalid calls configuration id "${callsConfigurationId}".`);
    }
    const customData = options.customData || {};
    if (typeof customData !== "object" || Object.values(customData).some((value) => typeof value !== "string")) {
      throw new TypeError("customData values must be strings.");
    }
    if (!this.isConnected()) throw new Error("Not connected; call connect() first.");
    if (this._activeCall) throw new Error("Call already in progress.");
    const id = String(callsConfigurationId);
    const call = new ApplicationCall(this, {
      incoming: false,
      callsConfigurationId: id,
      counterpart: { type: "APPLICATION", identity: id },
      options,
      customData,
    });
    const requestId = String(++this._requestIds);
    this._calls.set(`request:${requestId}`, call);
    this._activeCall = call;
    call._place(requestId);
    return call;
  }

  /** Call another identity. Returns at once; follow the call through its events. */
  callWebrtc(identity, options = {}) {
    if (!IDENTITY.test(String(identity))) throw new Error(`Invalid identity "${identity}".`);
    checkedRecordingOptions(options);
    if (!this.isConnected()) throw new Error("Not connected; call connect() first.");
    if (this._activeCall) throw new Error("Call already in progress.");
    const call = new WebrtcCall(this, { incoming: false, counterpart: { identity }, options });
    const requestId = String(++this._requestIds);
    this._calls.set(`request:${requestId}`, call);
    this._activeCall = call;
    call._place(requestId);
    return call;
  }

  setAudioInputDevice(deviceId) {
    this._audioInputDevice = deviceId;
  }

  unsetAudioInputDevice() {
    this._audioInputDevice = null;
  }

  setVideoInputDevice(deviceId) {
    this._videoInputDevice = deviceId;
  }

  unsetVideoInputDevice() {
    this._videoInputDevice = null;
  }

  async getAudioInputDevices() {
    return (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "audioinput");
  }

  async getVideoInputDevices() {
    return (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
  }

  // --- the signalling socket --------------------------------------------------------------------------------

  _open() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this._nodeUrl.replace(/^http/, "ws")}/ws`);
      this._ws = ws;
      let registered = false;
      ws.onopen = () => ws.send(JSON.stringify({ type: "hello", token: this._token }));
      ws.onmessage = ({ data }) => {
        this._lastHeard = Date.now();
        let message;
        try {
          message = JSON.parse(data);
        } catch {
          return;
        }
        if (!registered) {
          if (message.type === "registered") {
            registered = true;
            this._user = Object.freeze({ identity: message.identity });
            this._startHeartbeat();
            resolve();
          } else if (message.type === "error") {
            this._wanted = false;
            reject(Object.assign(new Error(message.text), { errorCode: errorCode(message.code) }));
          }
          return;
        }
        this._handle(message);
      };
      ws.onclose = ({ code, reason }) => {
        if (this._ws !== ws) return;
        this._stopHeartbeat();
        this._ws = null;
        if (!registered) {
          reject(new Error(`The node closed the connection (${code} ${reason || ""}).`.trim()));
          return;
        }
        this._lost(code, reason);
      };
    });
  }

  _lost(code, reason) {
    // the node keeps room seats and established 1:1 calls for a while, so they wait for the reconnect and are
    // taken back; it ends calls still ringing (and applications' calls) of a session that goes away
    const reconnecting = this._wanted && code < FINAL_CLOSE;
    for (const call of new Set(this._calls.values())) {
      if (reconnecting && (call instanceof RoomCall || call._resumable())) call._onConnectionLost();
      else call._end("NETWORK_ERROR");
    }
    if (reconnecting) {
      this._reconnect(0);
    } else {
      this._emit("disconnected", { reason: reason || `closed with code ${code}` });
    }
  }

  /** After a reconnect: ask for each room seat back (`rejoin_room`; the node answers `room_joined`, then `media`)
   * and for each 1:1 call (`resume_call`; the node answers `call_resumed`, or `hangup` if it ended meanwhile). */
  _rejoinRooms() {
    for (const call of new Set(this._calls.values())) {
      const room = call instanceof RoomCall;
      if (!call.id() || !(room || call._reconnecting)) continue;
      const requestId = String(++this._requestIds);
      this._calls.set(`request:${requestId}`, call);
      this._send({ type: room ? "rejoin_room" : "resume_call", requestId, callId: call.id() });
    }
  }

  _reconnect(attempt) {
    if (attempt === 0) this._emit("reconnecting", {});
    if (!this._wanted) return;
    if (attempt >= RECONNECT_ATTEMPTS) {
      this._wanted = false;
      this._endCalls("NETWORK_ERROR");
      this._emit("disconnected", { reason: "could not reconnect to the media node" });
      return;
    }
    const delay = RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)];
    setTimeout(() => {
      if (!this._wanted) return;
      this._open().then(
        () => {
          this._rejoinRooms();
          this._emit("reconnected", {});
        },
        () => this._wanted && this._reconnect(attempt + 1),
      );
    }, delay);
  }

  _close(code, reason) {
    this._stopHeartbeat();
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.close(code, reason);
      this._emit("disconnected", { reason });
    }
  }

  _startHeartbeat() {
    this._lastHeard = Date.now();
    this._heartbeat = setInterval(() => {
      if (Date.now() - this._lastHeard > HEARTBEAT_TIMEOUT_MS) {
        const ws = this._ws;
        this._ws = null;
        this._stopHeartbeat();
        if (ws) ws.close();
        this._lost(1006, "heartbeat timeout");
        return;
      }
      this._send({ type: "ping" });
    }, HEARTBEAT_MS);
  }

  _stopHeartbeat() {
    clearInterval(this._heartbeat);
    this._heartbeat = null;
  }

  _send(message) {
    if (this._ws && this._ws.readyState === WebSocket.OPEN) this._ws.send(JSON.stringify(message));
  }

  _handle(message) {
    const call = this._calls.get(message.callId);
    switch (message.type) {
      case "call_started": {
        const placed = this._calls.get(`request:${message.requestId}`);
        if (!placed) return;
        this._calls.delete(`request:${message.requestId}`);
        this._calls.set(message.callId, placed);
        placed._onStarted(message.callId);
        return;
      }
      case "incoming_call": {
        if (this._activeCall) {
          this._send({ type: "decline", callId: message.callId }); // one call at a time, as in infobip-rtc
          return;
        }
        const fromApplication = Boolean(message.callsConfigurationId);
        const details = {
          incoming: true,
          id: message.callId,
          counterpart: { identity: message.from, displayName: message.fromDisplayName || message.from },
          options: { video: Boolean(message.video) },
        };
        const customData = message.customData || {};
        const incoming = fromApplication
          ? new ApplicationCall(this, { ...details, callsConfigurationId: message.callsConfigurationId, customData })
          : new WebrtcCall(this, details);
        this._calls.set(message.callId, incoming);
        this._activeCall = incoming;
        const event = fromApplication ? "incoming-application-call" : "incoming-webrtc-call";
        this._emit(event, { incomingCall: incoming, customData });
        return;
      }
      case "room_joined": {
        const room = this._calls.get(`request:${message.requestId}`);
        if (!(room instanceof RoomCall)) return;
        this._calls.delete(`request:${message.requestId}`);
        this._calls.set(message.callId, room);
        return room._onJoined(message);
      }
      case "participant_joined":
      case "participant_left":
      case "participant_talking":
      case "participant_media_changed":
        return call instanceof RoomCall && call._onParticipant(message);
      case "video_slots":
        return call instanceof RoomCall && call._onVideoSlots(message);
      case "data":
        return call && call.dataChannel()._onData(message);
      case "data_delivered":
        return call && call.dataChannel()._onDelivered(message);
      case "broadcast_text":
        return call && call.dataChannel()._onBroadcast(message);
      case "network_quality":
        return call && call._onNetworkQuality(message);
      case "remote_network_quality":
        return call instanceof WebrtcCall && call._onRemoteNetworkQuality(message);
      case "remote_media":
        return call instanceof WebrtcCall && call._onRemoteMedia(message);
      case "remote_connection":
        return call instanceof WebrtcCall && call._onRemoteConnection(message);
      case "call_resumed": {
        const resumed = this._calls.get(`request:${message.requestId}`);
        this._calls.delete(`request:${message.requestId}`);
        return resumed instanceof WebrtcCall && resumed._onResumed();
      }
      case "ringing":
        return call instanceof WebrtcCall && call._onRinging();
      case "established":
        return call instanceof WebrtcCall && call._onEstablished();
      case "media":
        return call && call._onMedia(message);
      case "answered_elsewhere":
        return call instanceof WebrtcCall && call._end("ANSWERED_ELSEWHERE");
      case "hangup":
        return call && call._end(message.errorCode);
      case "error":
        return this._onError(message);
      default:
        return; // pong, and whatever a newer node adds
    }
  }

  _onError(message) {
    const placed = message.requestId && this._calls.get(`request:${message.requestId}`);
    if (placed) {
      this._calls.delete(`request:${message.requestId}`);
      // a refused rejoin (or resume) means the seat (or call) is gone: it was lost with the network
      if (placed.id()) placed._end("NETWORK_ERROR");
      else placed._fail(message.code);
      return;
    }
    for (const call of new Set(this._calls.values())) {
      if (message.requestId && call.dataChannel()._onError(message)) return;
    }
    this._emit("error", { errorCode: errorCode(message.code), text: message.text });
  }

  _endCalls(name) {
    for (const call of new Set(this._calls.values())) call._end(name);
  }

  _forget(call) {
    for (const [key, value] of this._calls) if (value === call) this._calls.delete(key);
    if (this._activeCall === call) this._activeCall = null;
  }

  _peerConfiguration() {
    return { iceServers: this._iceServers, iceTransportPolicy: this._iceTransportPolicy };
  }
}

/**
 * The entry point, like infobip-rtc's `createInfobipRtc(token, options)`.
 *
 * options: `nodeUrl` (the media node, e.g. "https://media.example.com"; by default the node the token names),
 * `iceServers` (RTCIceServer[],
 * default none: no public STUN is ever used unless you give one), `iceTransportPolicy` ("all" | "relay").
 */
export function createSwitchboardRtc(token, options = {}) {
  return new SwitchboardRtc(token, options);
}
