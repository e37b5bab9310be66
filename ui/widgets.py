"""Small widgets shared by the screens (their look is in kiosk.kv)."""
from __future__ import annotations

import math

from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label


class FitLabel(Label):
    """A label that wraps within its box and shrinks its font until the text fits
    (long translations, long service names, small screens: never cut off)."""

    max_font = NumericProperty(20)
    min_font = NumericProperty(8)
    pad_x = NumericProperty(0)
    pad_y = NumericProperty(0)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._fit_trigger = Clock.create_trigger(self._fit, -1)
        self.bind(size=self._fit_trigger, text=self._fit_trigger, max_font=self._fit_trigger,
                  pad_x=self._fit_trigger, pad_y=self._fit_trigger)
        self._fit_trigger()

    def _fit(self, *_):
        w, h = self.width - 2 * self.pad_x, self.height - 2 * self.pad_y
        if w <= 2 or h <= 2:
            return
        self.text_size = (w, None)
        fs = max(self.min_font, self.max_font)
        for _ in range(12):
            # whole pixels: SDL2_ttf opens its font at int(size) anyway, and every distinct
            # size is a font face kept open (a CJK face costs ~0.4 MB): 23.2 and 23.7 share one
            self.font_size = int(fs)
            self.texture_update()
            tw, th = self.texture_size
            if (th <= h + 1 and tw <= w + 1) or fs <= self.min_font:
                break
            # jump close to the fitting size (wrapped text grows with the square of the font
            # size), then creep down: few renders per label
            guess = fs * min(w / max(tw, 1), math.sqrt(h / max(th, 1))) * 0.98
            fs = max(self.min_font, min(fs * 0.92, guess))


class Panel(BoxLayout):
    """A box with a coloured rounded background."""

    bg = ListProperty([0.12, 0.17, 0.28, 1])
    radius = NumericProperty(12)


class TapButton(ButtonBehavior, FitLabel):
    """A flat, coloured button with fitting text (KV gives it its background)."""

    bg = ListProperty([0.16, 0.42, 0.78, 1])
    radius = NumericProperty(12)
    selected = BooleanProperty(False)
    font_scale = NumericProperty(5)     # font size in units of app.u


class ServiceButton(ButtonBehavior, BoxLayout):
    """One service on the customer screen: its name, people waiting and the estimate,
    or why it is not available (then it is disabled)."""

    prefix = StringProperty("")
    title = StringProperty("")
    detail = StringProperty("")
    bg = ListProperty([0.16, 0.42, 0.78, 1])
    radius = NumericProperty(16)


class TierButton(ServiceButton):
    """One priority tier on the customer screen (钻石 / 金卡 / 银卡…): looks like a service button."""

    tier = StringProperty("")


class LongPressLabel(FitLabel):
    """A label that fires `on_long_press` after it has been held `hold_s` seconds."""

    hold_s = NumericProperty(3.0)
    __events__ = ("on_long_press",)

    def __init__(self, **kw):
        self._pending = None
        super().__init__(**kw)

    def on_touch_down(self, touch):
        if self.collide_point(*touch.pos):
            touch.grab(self)
            self._cancel()
            self._pending = Clock.schedule_once(lambda dt: self.dispatch("on_long_press"), self.hold_s)
            return True
        return super().on_touch_down(touch)

    def on_touch_up(self, touch):
        if touch.grab_current is self:
            touch.ungrab(self)
            self._cancel()
            return True
        return super().on_touch_up(touch)

    def _cancel(self):
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def on_long_press(self):
        pass


class Keypad(GridLayout):
    """Digits, clear and delete; fires `on_key(key)` with "0"–"9", "clear" or "del"."""

    __events__ = ("on_key",)
    clear_text = StringProperty("Clear")
    del_text = StringProperty("Delete")
    font_scale = NumericProperty(7)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.cols = 3
        self.keys: dict[str, TapButton] = {}
        for key in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "del"]:
            btn = TapButton()
            btn.bg = [0.22, 0.27, 0.38, 1] if key in ("clear", "del") else [0.28, 0.34, 0.48, 1]
            btn.bind(on_release=lambda b, k=key: self.dispatch("on_key", k))
            self.keys[key] = btn
            self.add_widget(btn)
        self._relabel()
        self._refont()
        self.bind(clear_text=self._relabel, del_text=self._relabel, font_scale=self._refont)

    def _relabel(self, *_):
        for key, btn in self.keys.items():
            btn.text = self.clear_text if key == "clear" else self.del_text if key == "del" else key

    def _refont(self, *_):
        for key, btn in self.keys.items():
            btn.font_scale = self.font_scale * (0.6 if key in ("clear", "del") else 1.0)

    def on_key(self, key):
        pass


def qr_matrix(data: str) -> list[list[bool]]:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=2)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.get_matrix()


def qr_texture(data: str) -> Texture:
    """A QR code of `data` as a texture: one texel per module, drawn with nearest filtering."""
    matrix = qr_matrix(data)
    n = len(matrix)
    # Kivy textures start at the bottom row; RGBA keeps every row 4-byte aligned
    buf = b"".join((b"\x00\x00\x00\xff" if cell else b"\xff\xff\xff\xff") for row in reversed(matrix) for cell in row)
    tex = Texture.create(size=(n, n), colorfmt="rgba")
    tex.blit_buffer(buf, colorfmt="rgba", bufferfmt="ubyte")
    tex.mag_filter = "nearest"
    tex.min_filter = "nearest"
    return tex
