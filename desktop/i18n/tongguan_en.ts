<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="zh_CN">
<context>
    <name>AlertCardDelegate</name>
    <message>
        <location filename="../../widgets/alert_card.py" line="67"/>
        <source>抓拍</source>
        <translation>Snapshot</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_card.py" line="116"/>
        <source>置信度 %s%%</source>
        <translation>Confidence %s%%</translation>
    </message>
</context>
<context>
    <name>DutyPanel</name>
    <message>
        <location filename="../../widgets/duty_panel.py" line="280"/>
        <source>会商中</source>
        <translation>In consultation</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="286"/>
        <source>督办超期</source>
        <translation>Supervised, overdue</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="314"/>
        <source>今日县干指挥长</source>
        <translation>Today&apos;s duty commander</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="321"/>
        <location filename="../../widgets/duty_panel.py" line="353"/>
        <location filename="../../widgets/duty_panel.py" line="402"/>
        <location filename="../../widgets/duty_panel.py" line="464"/>
        <source>暂无</source>
        <translation>None</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="330"/>
        <source>电话</source>
        <translation>Tel.</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="344"/>
        <source>值班人员</source>
        <translation>On duty</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="371"/>
        <source>另有{0}人</source>
        <translation>+{0} more</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="410"/>
        <source>另有{0}件</source>
        <translation>+{0} more</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="456"/>
        <source>指挥长最新指示</source>
        <translation>Latest instructions</translation>
    </message>
</context>
<context>
    <name>EventQueueModel</name>
    <message>
        <location filename="../ui/models.py" line="163"/>
        <source>紧急</source>
        <translation>Priority</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="164"/>
        <source>来源</source>
        <translation>Source</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="165"/>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="166"/>
        <source>网格</source>
        <translation>Grid</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="167"/>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="168"/>
        <source>剩余时限</source>
        <translation>Left</translation>
    </message>
</context>
<context>
    <name>GridDetails</name>
    <message>
        <location filename="../../widgets/grid_details.py" line="43"/>
        <source>网格员信息暂缺</source>
        <translation>No grid worker on record</translation>
    </message>
    <message>
        <location filename="../../widgets/grid_details.py" line="44"/>
        <source>暂无在办事件</source>
        <translation>No open cases</translation>
    </message>
    <message>
        <location filename="../../widgets/grid_details.py" line="46"/>
        <source>另有 %s 件…</source>
        <translation>%s more…</translation>
    </message>
</context>
<context>
    <name>HourlyTrend</name>
    <message>
        <location filename="../../widgets/trend_chart.py" line="51"/>
        <source>今日与昨日每小时接报量</source>
        <translation>Cases received per hour, today and yesterday</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="54"/>
        <source>今日</source>
        <translation>Today</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="58"/>
        <source>昨日</source>
        <translation>Yesterday</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="89"/>
        <source>{0}时</source>
        <translation>{0}:00</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="103"/>
        <source>暂无数据</source>
        <translation>No data</translation>
    </message>
</context>
<context>
    <name>OutageBanner</name>
    <message>
        <location filename="../../widgets/wall_header.py" line="119"/>
        <source>连接中断，数据截至 %s</source>
        <translation>Connection lost. Data as of %s</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="121"/>
        <source>尚未连接到调度服务，暂无数据</source>
        <translation>Not connected to the dispatch service yet. No data</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="123"/>
        <source>&#x3000;·&#x3000;正在第 %s 次重连</source>
        <translation>  ·  Reconnecting, attempt %s</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="125"/>
        <source>（%s）</source>
        <translation> (%s)</translation>
    </message>
</context>
<context>
    <name>StreetRanking</name>
    <message>
        <location filename="../../widgets/street_ranking.py" line="160"/>
        <source>暂无数据</source>
        <translation>No data</translation>
    </message>
</context>
<context>
    <name>Texts</name>
    <message>
        <location filename="../ui/models.py" line="400"/>
        <source>特急</source>
        <translation>Critical</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="401"/>
        <source>紧急</source>
        <translation>Urgent</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="402"/>
        <source>一般</source>
        <translation>Normal</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="403"/>
        <source>较低</source>
        <translation>Low</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="407"/>
        <source>12345</source>
        <translation>12345</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="408"/>
        <source>巡查</source>
        <translation>Patrol</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="409"/>
        <source>随手拍</source>
        <translation>Photo</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="410"/>
        <source>视频</source>
        <translation>Camera</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="411"/>
        <source>感知</source>
        <translation>Sensor</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="412"/>
        <source>交办</source>
        <translation>Assigned</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="415"/>
        <source>待受理</source>
        <translation>To accept</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="416"/>
        <source>已受理</source>
        <translation>Accepted</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="417"/>
        <source>不予受理</source>
        <translation>Rejected</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="418"/>
        <source>已派遣</source>
        <translation>Dispatched</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="419"/>
        <source>处置中</source>
        <translation>Handling</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="420"/>
        <source>已处置</source>
        <translation>Handled</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="421"/>
        <source>已核查</source>
        <translation>Verified</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="422"/>
        <source>已结案</source>
        <translation>Closed</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="423"/>
        <source>已评价</source>
        <translation>Rated</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="426"/>
        <source>网格</source>
        <translation>Grid</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="427"/>
        <source>社区</source>
        <translation>Community</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="428"/>
        <source>街道</source>
        <translation>Street</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="429"/>
        <source>区级</source>
        <translation>District</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="447"/>
        <source>%1天%2时</source>
        <translation>%1d %2h</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="451"/>
        <source>超 %s</source>
        <translation>−%s</translation>
    </message>
</context>
<context>
    <name>WallHeader</name>
    <message>
        <location filename="../../widgets/wall_header.py" line="68"/>
        <source>静音</source>
        <translation>Muted</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="68"/>
        <source>声音</source>
        <translation>Sound</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="69"/>
        <source>新特急事件提示音（M 键切换）</source>
        <translation>Chime for new critical cases (M toggles)</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="89"/>
        <source>连接中断</source>
        <translation>Disconnected</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="91"/>
        <source>正在载入…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="95"/>
        <source>数据 %s 秒前</source>
        <translation>Data %s s ago</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="97"/>
        <source>数据 %s 分钟前</source>
        <translation>Data %s min ago</translation>
    </message>
</context>
<context>
    <name>WallWindow</name>
    <message>
        <location filename="../ui/app.py" line="98"/>
        <source>正在启动内置调度服务（首次启动需载入全区数据）…</source>
        <translation>Starting the built-in dispatch service (the first start loads the whole district)…</translation>
    </message>
    <message>
        <location filename="../ui/app.py" line="108"/>
        <source>内置调度服务启动失败：%s</source>
        <translation>The built-in dispatch service failed to start: %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="67"/>
        <source>全部在办</source>
        <translation>All open</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="68"/>
        <source>待受理</source>
        <translation>To accept</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="69"/>
        <source>处置中</source>
        <translation>Handling</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="70"/>
        <source>待核查</source>
        <translation>To verify</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="91"/>
        <source>通观 · 智慧联动指挥大屏</source>
        <translation>Tongguan · Smart Linkage Command Wall</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="111"/>
        <source>大观区智慧联动中心 · 一网统管</source>
        <translation>Daguan District Smart Linkage Centre · Unified Governance</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="157"/>
        <source>全部街道</source>
        <translation>All streets</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="187"/>
        <source>暂无待处理告警</source>
        <translation>No pending alerts</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="197"/>
        <source>今日指标</source>
        <translation>Today&apos;s KPIs</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="207"/>
        <source>每小时接报量 · 今日与昨日</source>
        <translation>Cases per hour · today and yesterday</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="208"/>
        <source>街道综合得分排名 · 本月</source>
        <translation>Streets by overall score · this month</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="209"/>
        <source>网格态势</source>
        <translation>Grid overview</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="212"/>
        <source>县干指挥长</source>
        <translation>Duty commander</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="213"/>
        <source>事件队列</source>
        <translation>Case queue</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="216"/>
        <source>视频告警</source>
        <translation>Camera alerts</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="228"/>
        <source>%s 件</source>
        <translation>%s cases</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="273"/>
        <source>%s 条待处理</source>
        <translation>%s pending</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="326"/>
        <source>调度服务拒绝了本终端，请联系管理员</source>
        <translation>The dispatch service refused this terminal. Contact the administrator</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="328"/>
        <source>调度服务未响应</source>
        <translation>The dispatch service is not responding</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="330"/>
        <source>连接超时</source>
        <translation>Connection timed out</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="332"/>
        <source>连接被关闭</source>
        <translation>Connection closed</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="333"/>
        <source>网络异常</source>
        <translation>Network error</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="378"/>
        <source>%s智慧联动中心 · 一网统管</source>
        <translation>%s Smart Linkage Centre · Unified Governance</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="387"/>
        <source>全区</source>
        <translation>Whole district</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="432"/>
        <source>新特急事件</source>
        <translation>new critical case</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="432"/>
        <source>操作中</source>
        <translation>operator active</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="434"/>
        <source>（轮巡暂停：%s）</source>
        <translation> (tour paused: %s)</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="436"/>
        <source>（轮巡）</source>
        <translation> (on tour)</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="80"/>
        <source>正在载入今日数据…</source>
        <translation>Loading today&apos;s figures…</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="83"/>
        <source>今日指标 · %s</source>
        <translation>Today&apos;s KPIs · %s</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="98"/>
        <source>%s 分</source>
        <translation>%s pts</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="102"/>
        <source> · 超期 %s</source>
        <translation> · %s overdue</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="156"/>
        <location filename="../ui/panels.py" line="169"/>
        <source>环节超期</source>
        <translation>stage late</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="468"/>
        <source>网格员 %s  %s</source>
        <translation>Grid worker %s  %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="470"/>
        <source>网格长 %s</source>
        <translation>Grid leader %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="503"/>
        <source>特急</source>
        <translation>Critical</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="504"/>
        <source>紧急</source>
        <translation>Urgent</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="505"/>
        <source>一般</source>
        <translation>Normal</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="506"/>
        <source>较低</source>
        <translation>Low</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="507"/>
        <source>网格有超期</source>
        <translation>Overdue in grid</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="365"/>
        <source>工作日历缺%s年官方数据，期限按估算推算</source>
        <translation>No official %s calendar: deadlines estimated</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="368"/>
        <source>工作日历缺%s年数据，期限按周末推算</source>
        <translation>No %s calendar: deadlines count weekends only</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="377"/>
        <source>按期结案率</source>
        <translation>On-time closure</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="379"/>
        <source>平均处置时长</source>
        <translation>Avg. handling time</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="383"/>
        <source>%s 分钟</source>
        <translation>%s min</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="384"/>
        <source>%s 小时</source>
        <translation>%s h</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="374"/>
        <source>今日接报</source>
        <translation>Received today</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="375"/>
        <source>今日派遣</source>
        <translation>Dispatched today</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="376"/>
        <source>今日结案</source>
        <translation>Closed today</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="378"/>
        <source>当前超期</source>
        <translation>Overdue now</translation>
    </message>
</context>
</TS>
