# config.py for the simulated board, as in the chapter. `make demo` writes its own copy with
# hookd's URL and key (`hookd key`); copy this one into a board's flash folder to play by hand.
WIFI_SSID = 'home-net'
WIFI_PASSWORD = 'correct horse'
WEBHOOK_URL = 'http://127.0.0.1:8080/trigger/button_pressed/with/key/your-key'
BUTTON_ID = 'micropython1'
LED_PIN = 2  # D4
LED2_PIN = 16  # D0
DEBUG_PIN = 14  # D5
