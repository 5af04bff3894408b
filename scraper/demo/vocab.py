"""Word and sentence pools for synthetic articles of a Thanh Hóa district portal.

Everything here is data plus one small :class:`Writer` that fills templates
from a caller-supplied ``random.Random``; the same RNG state always gives the
same text. Slots in templates: ``{org}``, ``{commune}``, ``{commune2}``,
``{person}``, ``{n}``, ``{n2}``, ``{pct}``, ``{money}``, ``{year}``,
``{next_year}``, ``{district}``.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import lru_cache
from string import Formatter

DISTRICT = "Triệu Sơn"

COMMUNES = (
    "Thọ Dân", "Dân Lực", "Dân Lý", "Dân Quyền", "Hợp Thành", "Hợp Lý", "Hợp Tiến",
    "Hợp Thắng", "Tiến Nông", "Khuyến Nông", "Xuân Thịnh", "Xuân Thọ", "An Nông",
    "Thọ Sơn", "Thọ Cường", "Đồng Tiến", "Đồng Thắng", "Đồng Lợi", "Minh Sơn",
    "Minh Châu", "Nông Trường", "Thái Hòa", "Tân Ninh", "Thọ Thế", "Thọ Vực",
    "Thọ Ngọc", "Thọ Tân", "Thọ Phú", "Thọ Bình", "Vân Sơn", "Bình Sơn", "Triệu Thành",
)

ORGS = (
    "UBND huyện", "Huyện ủy", "HĐND huyện", "Ủy ban MTTQ huyện", "Huyện đoàn",
    "Hội Liên hiệp Phụ nữ huyện", "Hội Nông dân huyện", "Hội Cựu chiến binh huyện",
    "Phòng Nông nghiệp và PTNT huyện", "Phòng Văn hóa và Thông tin huyện",
    "Phòng Giáo dục và Đào tạo huyện", "Phòng Tài chính - Kế hoạch huyện",
    "Ban Chỉ huy Quân sự huyện", "Công an huyện", "Liên đoàn Lao động huyện",
    "Trung tâm Y tế huyện", "Văn phòng điều phối NTM huyện",
)

SURNAMES = ("Lê", "Nguyễn", "Trần", "Hoàng", "Phạm", "Đỗ", "Vũ", "Trịnh", "Mai", "Đặng", "Bùi")
MIDDLE = ("Văn", "Thị", "Đình", "Xuân", "Minh", "Quang", "Hữu", "Ngọc", "Thanh", "Đức")
GIVEN = (
    "Hùng", "Dung", "Hiếu", "Hà", "Ánh", "Hương", "Thanh", "Anh", "Quốc", "Dương", "Kính",
    "Chất", "Tuấn", "Lan", "Phương", "Sơn", "Thắng", "Nga", "Hải", "Long", "Trang", "Bình",
)
ROLES = (
    "Bí thư Huyện ủy", "Phó Bí thư Thường trực Huyện ủy", "Chủ tịch UBND huyện",
    "Phó Chủ tịch UBND huyện", "Chủ tịch HĐND huyện", "Trưởng Ban Tuyên giáo Huyện ủy",
    "Chủ tịch Ủy ban MTTQ huyện", "Trưởng phòng Nông nghiệp và PTNT huyện",
)

#: Pen names used in signatures (two syllables, as on the real pages).
PEN_NAMES = (
    "Văn Hùng", "Thùy Dung", "Minh Hiếu", "Lê Hà", "Ngọc Ánh", "Thu Hương", "Đức Thanh",
    "Hoàng Anh", "Quỳnh Trang", "Mạnh Cường", "Thanh Bình", "Hải Yến", "Lê Phượng",
    "Xuân Thắng", "Trịnh Lan",
)
UNITS = (
    "Trung tâm VH-TT&TT", "Trung tâm VH-TT&TT huyện", "Phòng VH-TT huyện",
    "Đài TT-TH huyện", "Văn phòng HĐND và UBND huyện",
)

TITLES: dict[str, tuple[str, ...]] = {
    "tin-tuc-su-kien": (
        "{org} tổ chức hội nghị triển khai nhiệm vụ năm {year}",
        "Hội nghị tổng kết công tác năm {year}, triển khai nhiệm vụ năm {next_year}",
        "{org} sơ kết công tác 6 tháng đầu năm {year}",
        "Đồng chí {role} làm việc với xã {commune}",
        "Kỳ họp thứ {n} HĐND huyện {district}",
        "Đại hội đại biểu Đảng bộ xã {commune} lần thứ {n}",
        "{org} tiếp xúc cử tri tại xã {commune} và xã {commune2}",
        "Lãnh đạo huyện thăm, chúc Tết các gia đình chính sách xã {commune}",
        "Hội nghị học tập, quán triệt Nghị quyết của Đảng năm {year}",
        "UBND huyện làm việc giao nhiệm vụ năm {year} với xã {commune}",
    ),
    "kinh-te-xa-hoi": (
        "Huyện {district} đẩy mạnh giải ngân vốn đầu tư công năm {year}",
        "Khởi công xây dựng tuyến đường giao thông xã {commune}",
        "Nghiệm thu, đưa vào sử dụng trụ sở UBND xã {commune}",
        "{org} kiểm tra công tác thu ngân sách trên địa bàn",
        "Xã {commune} tổ chức đấu giá quyền sử dụng đất năm {year}",
        "Hội nghị đối thoại với doanh nghiệp, hợp tác xã năm {year}",
        "Trao tiền hỗ trợ cho {n} hộ nghèo xã {commune}",
        "Huyện {district} thu hút {n} dự án đầu tư trong năm {year}",
        "Khánh thành cầu dân sinh tại xã {commune}",
    ),
    "nong-nghiep-nong-thon-moi": (
        "Xã {commune} đón nhận Bằng công nhận đạt chuẩn nông thôn mới",
        "Xã {commune} phấn đấu đạt chuẩn NTM nâng cao năm {year}",
        "Mô hình trồng rau an toàn tại xã {commune} cho hiệu quả cao",
        "Huyện {district} triển khai sản xuất vụ Chiêm Xuân năm {year}",
        "Hội nghị sơ kết sản xuất vụ Thu Mùa năm {year}",
        "Ra quân làm giao thông nội đồng tại xã {commune}",
        "Kiểm tra công tác phòng, chống dịch bệnh trên đàn gia súc, gia cầm",
        "Thôn {n} xã {commune} đạt chuẩn thôn NTM kiểu mẫu",
        "Hội nghị tổng kết công tác xây dựng NTM năm {year}",
    ),
    "van-hoa-the-thao": (
        "Khai mạc Giải bóng đá thanh niên huyện {district} năm {year}",
        "Xã {commune} tổ chức Lễ hội truyền thống năm {year}",
        "Hội thi văn nghệ quần chúng chào mừng ngày thành lập Đảng",
        "Bế mạc Đại hội Thể dục thể thao huyện {district} lần thứ {n}",
        "Ngày hội Đại đoàn kết toàn dân tộc tại thôn {n} xã {commune}",
        "Khánh thành nhà văn hóa thôn {n} xã {commune}",
        "Giải cầu lông, bóng bàn cán bộ công chức huyện năm {year}",
        "Liên hoan tuyên truyền ca khúc cách mạng năm {year}",
    ),
    "quoc-phong-an-ninh": (
        "Xã {commune} tổ chức Lễ giao nhận quân năm {year}",
        "Diễn tập chiến đấu phòng thủ xã {commune} năm {year}",
        "Công an huyện ra quân trấn áp tội phạm dịp Tết Nguyên đán",
        "Hội nghị tổng kết công tác quân sự - quốc phòng địa phương năm {year}",
        "Huấn luyện lực lượng dân quân tự vệ năm {year}",
        "Ra mắt mô hình an ninh trật tự tại xã {commune}",
        "Kiểm tra công tác tuyển chọn và gọi công dân nhập ngũ năm {year}",
    ),
}

#: Openings that mention a day (the date is NOT the publication date).
OPENINGS = (
    "{when} ngày {day}, {org} đã tổ chức {event}.",
    "Ngày {day}, {org} tổ chức {event}.",
    "Trong {when_lower} ngày {day}, tại hội trường UBND xã {commune}, {org} đã tổ chức {event}.",
)
WHEN = ("Sáng", "Chiều", "Tối")
EVENTS = (
    "hội nghị triển khai nhiệm vụ trọng tâm",
    "buổi làm việc với lãnh đạo các xã",
    "lễ phát động phong trào thi đua",
    "hội nghị sơ kết công tác",
    "buổi kiểm tra tiến độ thực hiện các công trình",
    "lễ ra quân",
    "hội nghị tập huấn cho cán bộ cơ sở",
)

SENTENCES = (
    "Dự và chỉ đạo có đồng chí {person}, {role}.",
    "Về dự hội nghị có lãnh đạo các phòng, ngành, đơn vị của huyện và Bí thư, Chủ tịch UBND các xã.",
    "Trong năm {year}, toàn huyện có thêm {n} xã đạt chuẩn nông thôn mới, đạt {pct}% kế hoạch.",
    "Tổng kinh phí thực hiện là {money} triệu đồng, trong đó nhân dân đóng góp {n2} triệu đồng.",
    "Đến nay đã có {n}/{n2} xã hoàn thành chỉ tiêu được giao.",
    "Đồng chí {person}, {role} đã ghi nhận và biểu dương những kết quả mà xã {commune} đạt được.",
    "Các đại biểu đã tập trung thảo luận, làm rõ những thuận lợi, khó khăn và đề xuất giải pháp.",
    "Xã {commune} đã huy động được {money} triệu đồng để nâng cấp {n} km đường giao thông nông thôn.",
    "Đời sống vật chất và tinh thần của nhân dân ngày càng được nâng lên, tỷ lệ hộ nghèo giảm còn {pct}%.",
    "Công tác tuyên truyền được triển khai bằng nhiều hình thức phong phú, thiết thực.",
    "Mô hình đã giúp {n} hộ dân có thu nhập ổn định, bình quân {n2} triệu đồng/hộ/năm.",
    "Ban Chỉ đạo yêu cầu các xã rà soát lại từng tiêu chí, từng chỉ tiêu để có kế hoạch thực hiện.",
    "Các phòng, ngành chức năng chủ động phối hợp, hướng dẫn các xã tháo gỡ khó khăn, vướng mắc.",
    "Hội nghị đã biểu quyết thông qua Nghị quyết với tỷ lệ {pct}% đại biểu tán thành.",
    "Dịp này, {org} đã trao {n} suất quà cho các gia đình có hoàn cảnh khó khăn.",
    "Nhân dịp này, {n} tập thể và {n2} cá nhân được khen thưởng vì có thành tích xuất sắc.",
    "Các xã {commune}, {commune2} là những đơn vị dẫn đầu phong trào trong năm {year}.",
    "Phát biểu tại buổi làm việc, đồng chí {person} đề nghị các địa phương tiếp tục phát huy những kết quả đã đạt được.",
    "Tính đến hết năm {year}, tổng giá trị sản xuất ước đạt {money} tỷ đồng, tăng {pct}% so với cùng kỳ.",
    "Toàn huyện có {n} thôn được công nhận danh hiệu thôn văn hóa, đạt {pct}%.",
    "Các đơn vị cần chủ động xây dựng kế hoạch, phân công nhiệm vụ cụ thể cho từng thành viên.",
    "Hội nghị diễn ra trong không khí dân chủ, đoàn kết và đạt kết quả tốt./.",
)

CAPTIONS = (
    "Các đại biểu dự hội nghị.",
    "Một số hình ảnh tại hội nghị.",
    "Quang cảnh buổi làm việc.",
    "Đồng chí {person}, {role} phát biểu chỉ đạo.",
    "Lãnh đạo huyện trao quà cho các gia đình.",
    "Toàn cảnh buổi lễ.",
    "Các đại biểu cắt băng khánh thành công trình.",
    "Quang cảnh hội nghị.",
)

POLL_QUESTION = "Bạn quan tâm đến chuyên mục nào trên trang?"
POLL_EXTRA = ("Thủ tục hành chính", "Ý kiến khác")
WEATHER_PLACES = ("Thanh Hóa", "Sầm Sơn", "Bỉm Sơn", DISTRICT, "Mường Lát")


_POOLS: dict[str, tuple[str, ...]] = {"org": ORGS, "commune": COMMUNES, "role": ROLES}


@lru_cache(maxsize=256)
def _slots(template: str) -> tuple[str, ...]:
    """Slot names of a template, in order of appearance, each once."""
    names = (name for _, name, _, _ in Formatter().parse(template) if name)
    return tuple(dict.fromkeys(names))


class Writer:
    """Fills the pools' templates from one ``random.Random``."""

    def __init__(self, rng: random.Random, year: int) -> None:
        self.rng = rng
        self.year = year
        self._fixed = {"year": str(year), "next_year": str(year + 1), "district": DISTRICT}

    def person(self) -> str:
        r = self.rng
        return f"{r.choice(SURNAMES)} {r.choice(MIDDLE)} {r.choice(GIVEN)}"

    def fill(self, template: str) -> str:
        """``template`` with each of its slots drawn (only the slots it uses)."""
        r = self.rng
        values: dict[str, object] = {}
        for name in _slots(template):
            if name == "commune2":
                values[name] = r.choice([c for c in COMMUNES if c != values.get("commune")])
            elif name in ("n", "n2"):
                values[name] = r.randint(2, 35) if name == "n" else r.randint(36, 95)
            elif name == "pct":
                values[name] = r.randint(40, 99)
            elif name == "money":
                values[name] = f"{r.randint(1, 99)}.{r.randint(0, 999):03d}"
            elif name == "person":
                values[name] = self.person()
            else:
                values[name] = self._fixed.get(name) or r.choice(_POOLS[name])
        return template.format(**values)

    def title(self, category_slug: str) -> str:
        return self.fill(self.rng.choice(TITLES[category_slug]))

    def opening(self, published: date) -> str:
        """A first sentence naming a day on or a few days before publication."""
        r = self.rng
        day = published - timedelta(days=r.choice((0, 0, 1, 1, 2, 3, 7)))
        when = r.choice(WHEN)
        text = r.choice(OPENINGS).format(
            when=when,
            when_lower=when.lower(),
            day=f"{day.day}/{day.month}/{day.year}",
            org=r.choice(ORGS),
            event=r.choice(EVENTS),
            commune=r.choice(COMMUNES),
        )
        return text

    def paragraph(self) -> str:
        count = self.rng.randint(2, 5)
        return " ".join(self.fill(s) for s in self.rng.sample(SENTENCES, count))

    def caption(self) -> str:
        return self.fill(self.rng.choice(CAPTIONS))

    def signature(self) -> str:
        r = self.rng
        name = r.choice(PEN_NAMES)
        return f"{name} - {r.choice(UNITS)}" if r.random() < 0.25 else name
