/*
 * @system.device: what the rig file's [sim.device] table says (the start order's `device`),
 * under the names of the vendor's getInfo / getDeviceId / getSerial / getTotalStorage /
 * getAvailableStorage.
 */
'use strict'

const { makeModule } = require('../calls')

module.exports = function device(app, id) {
  const d = app.device
  return makeModule(app, id, {
    getInfo(opts) {
      app.answer(opts, {
        brand: d.brand,
        manufacturer: d.manufacturer,
        model: d.model,
        product: d.product,
        osType: d.os_type,
        osVersionName: d.os_version_name,
        osVersionCode: d.os_version_code,
        platformVersionName: d.platform_version_name,
        platformVersionCode: d.platform_version_code,
        language: d.language,
        region: d.region,
        APILevel: d.api_level,
        screenWidth: d.screen_width,
        screenHeight: d.screen_height,
        screenDensity: d.screen_density,
        screenShape: d.screen_shape,
        deviceType: d.device_type,
      })
    },
    getDeviceId(opts) {
      app.answer(opts, { deviceId: d.device_id })
    },
    getSerial(opts) {
      app.answer(opts, { serial: d.serial })
    },
    getTotalStorage(opts) {
      app.answer(opts, { totalStorage: d.total_storage })
    },
    getAvailableStorage(opts) {
      app.answer(opts, { availableStorage: d.available_storage })
    },
  })
}
