# A font with Chinese for printable tickets (GET /v1/me/orders/{id}/tickets.pdf): the server
# uses WenQuanYi Micro Hei where Debian puts it. Installed with apt-get when missing and we
# are root; otherwise tickets print in DejaVu Sans or Helvetica, Chinese as `?`.
ticket_font() {
    local font=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
    [ -f "$font" ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing fonts-wqy-microhei (Chinese on printable tickets) with apt-get" >&2
        { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >&2 ||
            { DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >&2; }; } ||
            echo "could not install fonts-wqy-microhei: printable tickets will lack Chinese" >&2
    else
        echo "no Chinese font ($font): printable tickets will lack Chinese (apt-get install fonts-wqy-microhei)" >&2
    fi
}
