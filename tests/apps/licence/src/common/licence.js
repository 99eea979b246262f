// The licence key of a device: what the vendor of this app would have issued for its id.
export function licenceFor(deviceId) {
  let sum = 0
  for (let i = 0; i < deviceId.length; i++) sum = (sum + (i + 1) * deviceId.charCodeAt(i)) % 99991
  return 'LIC-' + String(sum).padStart(5, '0')
}
