/*
 * @system.vibrator: what the wearer would feel, as `[SYS]` lines. vibrate({mode}) ('long' by
 * default, or 'short'); start({duration, interval, count}) runs a task that ends after its
 * count (fail 205 while one runs, 202 for a parameter that is not a positive integer);
 * stop(id) ends it (true) or finds none (false); getSystemDefaultMode() answers 1 (standard).
 */
'use strict'

const { CODE, options, makeModule } = require('../calls')
const { sysLine } = require('../format')

let nextTask = 1

module.exports = function vibrator(app, id) {
  let task = null // { id, timer }
  const end = () => {
    if (task !== null) clearTimeout(task.timer)
    task = null
  }
  app.onStop.push(end)
  return makeModule(app, id, {
    vibrate(opts) {
      const mode = options(opts).mode === undefined ? 'long' : options(opts).mode
      if (mode !== 'long' && mode !== 'short') {
        app.refuse(opts, "mode must be 'long' or 'short'", CODE.PARAMETER)
        return
      }
      app.system(sysLine('vibrator', 'vibrate', [mode]))
      app.answer(opts)
    },
    start(opts) {
      const o = options(opts)
      const numbers = [o.duration, o.interval, o.count]
      if (!numbers.every((n) => Number.isInteger(n) && n > 0)) {
        app.refuse(opts, 'duration, interval and count must be positive integers', CODE.PARAMETER)
        return
      }
      if (task !== null) {
        app.refuse(opts, 'a vibration task is running', CODE.DUPLICATE)
        return
      }
      const shown = o.duration + ' ms × ' + o.count + ', every ' + o.interval + ' ms'
      app.system(sysLine('vibrator', 'start', [shown]))
      const span = o.count * o.duration + (o.count - 1) * o.interval
      task = { id: nextTask++, timer: setTimeout(end, span) }
      app.answer(opts, { id: task.id })
    },
    stop(taskId) {
      if (task === null || task.id !== taskId) return false
      app.system(sysLine('vibrator', 'stop', [taskId]))
      end()
      return true
    },
    getSystemDefaultMode() {
      return 1
    },
  })
}
