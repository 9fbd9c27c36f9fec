WIFI_SSID = 'x
  LED_PIN = 3
LED_PIN = 07
VALUE2 = '\q'
VALUE3 = '''a'''
CA_FILE = b'x'
LED2_PIN = 2.5
