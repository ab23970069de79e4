"""The sign-in screen: a server and a token (a file, or pasted), or the local demo."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.sign_in import (
    DEMO_USERS,
    TOKEN_NAME,
    SignInError,
    check_server_url,
    config_dir,
    read_token_file,
    save_token,
)


class SignInDialog(QDialog):
    """Where and as whom the desk signs in; `choice` holds the answer once accepted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("通观 · 登录"))
        self.settings = QSettings()
        self.choice: tuple[str, str] | tuple[str, None] | None = None  # (server, token) / demo
        self.server = QLineEdit(str(self.settings.value("desk/server", "") or ""), self)
        self.server.setPlaceholderText("ws://10.0.0.5:8765")
        self.token_file = QLineEdit(self)
        self.token_file.setPlaceholderText(self.tr("令牌文件（权限 600）"))
        saved = config_dir() / TOKEN_NAME
        if saved.is_file():  # remembered last time: used again unless another is given
            self.token_file.setText(str(saved))
        browse = QPushButton(self.tr("选择…"), self)
        browse.clicked.connect(self._browse)
        self.token = QLineEdit(self)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText(self.tr("或粘贴令牌"))
        self.remember = QCheckBox(self.tr("记住令牌（仅本人可读的文件）"), self)
        self.demo = QComboBox(self)
        for key, label in (
            ("commander", self.tr("指挥长")),
            ("dispatcher", self.tr("调度员")),
            ("street", self.tr("菱湖街道分中心")),
            ("community", self.tr("社区工作站")),
            ("admin", self.tr("管理员")),
        ):
            self.demo.addItem(label, key)
        self.error = QLabel(self)
        self.error.setObjectName("formError")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        sign_in = QPushButton(self.tr("登录"), self)
        sign_in.setDefault(True)
        sign_in.clicked.connect(self._sign_in)
        demo = QPushButton(self.tr("进入本机演示"), self)
        demo.clicked.connect(self._demo)
        file_row = QHBoxLayout()
        file_row.addWidget(self.token_file, 1)
        file_row.addWidget(browse)
        form = QFormLayout()
        form.addRow(self.tr("服务器"), self.server)
        form.addRow(self.tr("令牌文件"), file_row)
        form.addRow(self.tr("令牌"), self.token)
        form.addRow("", self.remember)
        demo_row = QHBoxLayout()
        demo_row.addWidget(QLabel(self.tr("本机演示身份"), self))
        demo_row.addWidget(self.demo, 1)
        demo_row.addWidget(demo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(sign_in)
        layout.addSpacing(12)
        layout.addLayout(demo_row)
        layout.addWidget(self.error)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("选择令牌文件"))
        if path:
            self.token_file.setText(path)

    def _sign_in(self) -> None:
        try:
            server = check_server_url(self.server.text())
            token = self.token.text().strip()
            if not token and self.token_file.text().strip():
                token = read_token_file(Path(self.token_file.text().strip()))
            if not token:
                raise SignInError(self.tr("请给出令牌文件或粘贴令牌"))
            if self.remember.isChecked() and self.token.text().strip():
                self.token_file.setText(str(save_token(token)))
        except SignInError as exc:
            self.error.setText(str(exc))
            return
        self.settings.setValue("desk/server", server)
        self.choice = (server, token)
        self.accept()

    def _demo(self) -> None:
        who = str(self.demo.currentData())
        if who in DEMO_USERS:
            self.choice = (who, None)
            self.accept()
