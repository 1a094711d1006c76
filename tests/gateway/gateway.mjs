// A real Wechaty puppet-service gateway around a mock WeChat world, for tests/test_live_gateway.py.
//
//   node gateway.mjs --port 8788 --token test-token
//
// Control channel, one JSON object per line:
//   stdin   {"op": "say", "from": "alice", "room": "room1@chatroom", "text": "...", "mention": ["bot"]}
//           (mention: the message's mention list, contact ids, e.g. ["mom"]; [] or absent: none)
//           {"op": "say", "from": "alice", "text": "..."}            (no room: a private message to the bot)
//   stdout  {"event": "ready", "port": 8788, "bot": "bot", "contacts": [...], "rooms": [...]}
//           {"event": "started"} / {"event": "login", "id": "bot"}   (a client attached / the bot logged in)
//           {"event": "sent", "conversation": "...", "text": "...", "mentions": [...], "t": ms}
//           {"event": "error", "message": "..."}
// Wechaty's own logging goes to stderr (WECHATY_LOG=verbose for more).
import readline from 'node:readline'
import { PuppetServer } from 'wechaty-puppet-service'
import { PuppetMock, mock } from 'wechaty-puppet-mock'

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
)
const port = Number(args.port || 8788)
const token = args.token || 'permitbot-test-token'

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

const mocker = new mock.Mocker()
const puppet = new PuppetMock({ mocker })

// The mock world: the bot, four members (one whose name starts with the bot's), and five rooms (room ids
// must contain "@").
const bot = mocker.createContact({ id: 'bot', name: '小助手' })
const members = Object.fromEntries(
  [['alice', '张三'], ['bob', '李四'], ['carol', 'Carol'], ['mom', '小助手妈妈']].map(
    ([id, name]) => [id, mocker.createContact({ id, name })],
  ),
)
const everyone = [bot.id, ...Object.keys(members)]
const rooms = Object.fromEntries(
  [['room1@chatroom', '居住证交流群'], ['flood@chatroom', '刷屏群'], ['other@chatroom', '闲聊群'],
    ['names@chatroom', '同名群'], ['repeat@chatroom', '重复提问群']].map(
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

function say ({ from, room, text, mention = [] }) {
  const talker = members[from]
  if (!talker) throw new Error(`unknown member ${from}`)
  if (room) {
    if (!rooms[room]) throw new Error(`unknown room ${room}`)
    talker.say(text, mention.map((id) => mocker.ContactMock.load(id))).to(rooms[room])
  } else {
    talker.say(text).to(bot)
  }
}

const server = new PuppetServer({ puppet, token, endpoint: `127.0.0.1:${port}`, tls: { disable: true } })
await puppet.start()
await server.start()
emit({ event: 'ready', port, bot: bot.id, contacts: Object.keys(members), rooms: Object.keys(rooms) })

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return
  try {
    const command = JSON.parse(line)
    if (command.op !== 'say') throw new Error(`unknown op ${command.op}`)
    say(command)
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
