// A real Wechaty puppet-service gateway around a mock WeChat world, for tests/test_live_gateway.py.
//
//   node gateway.mjs --port 8788 --token test-token
//
// Control channel, one JSON object per line:
//   stdin   {"op": "say", "from": "alice", "room": "room1@chatroom", "text": "...", "mention": ["bot"]}
//           (mention: the message's mention list, contact ids, e.g. ["mom"]; [] or absent: none)
//           {"op": "say", "from": "alice", "text": "..."}            (no room: a private message to the bot)
//           "type": a wechaty-puppet MessageType name ("Url", "Attachment", "Unknown", "Recalled", …; default
//           "Text") sends `text` as that type's payload text, as a puppet does with an app message's XML;
//           "tag": echoed in the "said" event
//           {"op": "flood", "from": "alice", "room": "flood@chatroom", "count": 3000, "rate": 1000, "text": "..."}
//           (`count` messages "<text> <n>" at `rate` a second, in 10 ms ticks; "mention" as for "say")
//   stdout  {"event": "ready", "port": 8788, "bot": "bot", "contacts": [...], "rooms": [...]}
//           {"event": "started"} / {"event": "login", "id": "bot"}   (a client attached / the bot logged in)
//           {"event": "said", "id": "...", "conversation": "...", "tag": ..., "t": ms}   (a "say" was delivered)
//           {"event": "flooded", "room": "...", "count": N, "started": ms, "t": ms}       (a flood's last message)
//           {"event": "sent", "conversation": "...", "text": "...", "mentions": [...], "t": ms}
//           {"event": "error", "message": "..."}
// Wechaty's own logging goes to stderr (WECHATY_LOG=verbose for more).
import readline from 'node:readline'
import { PuppetServer } from 'wechaty-puppet-service'
import { PuppetMock, mock } from 'wechaty-puppet-mock'
import * as PUPPET from 'wechaty-puppet'

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
)
const port = Number(args.port || 8788)
const token = args.token || 'permitbot-test-token'

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

const mocker = new mock.Mocker()
const puppet = new PuppetMock({ mocker })

// The mock world: the bot, four members (one whose name starts with the bot's), and rooms (room ids must
// contain "@"): q1…q5 are quiet rooms for the flood test, quote@ and system@ for quotes and system lines,
// b1…b20 the rooms of the operators' edit burst test.
const bot = mocker.createContact({ id: 'bot', name: '小助手' })
const members = Object.fromEntries(
  [['alice', '张三'], ['bob', '李四'], ['carol', 'Carol'], ['mom', '小助手妈妈']].map(
    ([id, name]) => [id, mocker.createContact({ id, name })],
  ),
)
const everyone = [bot.id, ...Object.keys(members)]
const rooms = Object.fromEntries(
  [['room1@chatroom', '居住证交流群'], ['flood@chatroom', '刷屏群'], ['other@chatroom', '闲聊群'],
    ['names@chatroom', '同名群'], ['repeat@chatroom', '重复提问群'], ['q1@chatroom', '问答一群'],
    ['q2@chatroom', '问答二群'], ['q3@chatroom', '问答三群'], ['q4@chatroom', '问答四群'], ['q5@chatroom', '问答五群'],
    ['quote@chatroom', '引用群'], ['system@chatroom', '系统消息群'],
    ...Array.from({ length: 20 }, (_, n) => [`b${n + 1}@chatroom`, `压测${n + 1}群`])].map(
    ([id, topic]) => [id, mocker.createRoom({ id, topic, memberIdList: everyone })],
  ),
)

// The client calls stop() then start(); stop() logs the bot out, so log it in on every start.
const originalOnStart = puppet.onStart.bind(puppet)
puppet.onStart = async () => {
  await originalOnStart()
  emit({ event: 'started' })
  setImmediate(() => mocker.login(bot))
}
puppet.on('login', ({ contactId }) => emit({ event: 'login', id: contactId }))

// Record everything the bot sends, then let the mock deliver it (it echoes it back as a message).
const originalSendText = puppet.messageSendText.bind(puppet)
puppet.messageSendText = async (conversationId, text, mentionIdList = []) => {
  emit({ event: 'sent', conversation: conversationId, text, mentions: mentionIdList, t: Date.now() })
  return originalSendText(conversationId, text, mentionIdList)
}

// A member's message, made as the mock's own ContactMock.say makes it, but of any type and returning its id.
let sequence = 0
function deliver ({ from, room, text, mention = [], type = 'Text' }) {
  const talker = members[from]
  if (!talker) throw new Error(`unknown member ${from}`)
  if (room && !rooms[room]) throw new Error(`unknown room ${room}`)
  const kind = PUPPET.types.Message[type]  // the enum maps names to numbers (and numbers back to names)
  if (typeof kind !== 'number') throw new Error(`unknown message type ${type}`)
  const payload = {
    id: `m${++sequence}`,
    talkerId: talker.id,
    timestamp: Date.now(),
    type: kind,
    text,
    ...(room ? { roomId: room, mentionIdList: mention } : { listenerId: bot.id }),
  }
  const message = mocker.MessageMock.create(payload)
  puppet.emit('message', { messageId: message.id })
  return message.id
}

function say (command) {
  const id = deliver(command)
  emit({ event: 'said', id, conversation: command.room || command.from, tag: command.tag, t: Date.now() })
}

// `count` messages at `rate` a second: every 10 ms the messages due by then (a busy gateway catches up).
function flood ({ from, room, count, rate = 1000, text = '刷屏', mention = [] }) {
  if (!(count > 0 && count <= 100000 && rate > 0)) throw new Error('flood needs 0 < count <= 100000 and rate > 0')
  const started = Date.now()
  let sent = 0
  const tick = () => {
    const due = Math.min(count, Math.floor(((Date.now() - started) * rate) / 1000) + 1)
    for (; sent < due; sent++) deliver({ from, room, text: `${text} ${sent + 1}`, mention })
    if (sent < count) setTimeout(tick, 10)
    else emit({ event: 'flooded', room, count, started, t: Date.now() })
  }
  tick()
}

const server = new PuppetServer({ puppet, token, endpoint: `127.0.0.1:${port}`, tls: { disable: true } })
await puppet.start()
await server.start()
emit({ event: 'ready', port, bot: bot.id, contacts: Object.keys(members), rooms: Object.keys(rooms) })

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return
  try {
    const command = JSON.parse(line)
    const ops = { say, flood }
    if (!Object.hasOwn(ops, command.op)) throw new Error(`unknown op ${command.op}`)
    ops[command.op](command)
  } catch (error) {
    emit({ event: 'error', message: String(error && error.message ? error.message : error) })
  }
}).on('close', () => shutdown('stdin closed'))

async function shutdown (why) {
  process.stderr.write(`gateway: stopping (${why})\n`)
  await server.stop().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
