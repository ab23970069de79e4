<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="zh_CN">
<context>
    <name>ActionBar</name>
    <message>
        <location filename="../../widgets/action_bar.py" line="75"/>
        <source>当前状态下没有可做的操作</source>
        <translation>No actions available in this state</translation>
    </message>
</context>
<context>
    <name>ActionForm</name>
    <message>
        <location filename="../../widgets/action_form.py" line="415"/>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../../widgets/action_form.py" line="417"/>
        <source>取消（Esc）</source>
        <translation>Cancel (Esc)</translation>
    </message>
    <message>
        <location filename="../../widgets/action_form.py" line="436"/>
        <source>提交</source>
        <translation>Submit</translation>
    </message>
    <message>
        <location filename="../../widgets/action_form.py" line="465"/>
        <source>%s（Ctrl+Enter）</source>
        <translation>%s (Ctrl+Enter)</translation>
    </message>
</context>
<context>
    <name>AlertCardDelegate</name>
    <message>
        <location filename="../../widgets/alert_card.py" line="85"/>
        <source>抓拍</source>
        <translation>Snapshot</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_card.py" line="134"/>
        <source>置信度 %s%%</source>
        <translation>Confidence %s%%</translation>
    </message>
</context>
<context>
    <name>CaseCard</name>
    <message>
        <location filename="../../widgets/case_card.py" line="250"/>
        <source>选择一个案件</source>
        <translation>Select a case</translation>
    </message>
    <message>
        <location filename="../../widgets/case_card.py" line="317"/>
        <source>处理记录</source>
        <translation>Case record</translation>
    </message>
    <message>
        <location filename="../../widgets/case_card.py" line="483"/>
        <source>正在载入处理记录…</source>
        <translation>Loading case record…</translation>
    </message>
    <message>
        <location filename="../../widgets/case_card.py" line="485"/>
        <source>暂无处理记录</source>
        <translation>No record yet</translation>
    </message>
</context>
<context>
    <name>Desk</name>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="111"/>
        <location filename="../ui/desk/alerts_page.py" line="224"/>
        <source>选择一条告警</source>
        <translation>Select an alert</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="157"/>
        <source>（%1次）</source>
        <translation> (×%1)</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="170"/>
        <source>待处理告警 %1 条</source>
        <translation>%1 pending alerts</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="171"/>
        <source>；误报：%1</source>
        <translation>; false alarms: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="204"/>
        <source>正在载入抓拍图…</source>
        <translation>Loading snapshot…</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="234"/>
        <source>摄像机：%1</source>
        <translation>Camera: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="235"/>
        <source>网格：%1 · %2</source>
        <translation>Grid: %1 · %2</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="238"/>
        <source>同一处 %1 次，最近 %2</source>
        <translation>%1 times here, last %2</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="244"/>
        <source>发生于 %1（收到 %2）</source>
        <translation>Happened %1 (received %2)</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="259"/>
        <source>确认并派遣</source>
        <translation>Confirm and dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="260"/>
        <location filename="../ui/desk/alerts_page.py" line="316"/>
        <location filename="../ui/desk/alerts_page.py" line="317"/>
        <location filename="../ui/desk/texts.py" line="60"/>
        <source>误报</source>
        <translation>False alarm</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="263"/>
        <source>并入已有案件</source>
        <translation>Attach to case</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="285"/>
        <source>按检测类型默认</source>
        <translation>Default for detection type</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="291"/>
        <source>确认告警并派遣</source>
        <translation>Confirm alert and dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="295"/>
        <source>事件类别</source>
        <translation>Case category</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="303"/>
        <source>主办单位（空为只登记）</source>
        <translation>Lead unit (empty: register only)</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="306"/>
        <source>只登记，不派遣</source>
        <translation>Register only, no dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="310"/>
        <source>确认</source>
        <translation>Confirm</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="311"/>
        <source>确认后自动受理，并派遣给所选单位</source>
        <translation>Confirming accepts the case and dispatches it to the chosen unit</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="315"/>
        <source>标记为误报</source>
        <translation>Mark as false alarm</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="316"/>
        <location filename="../ui/desk/forms.py" line="42"/>
        <source>原因</source>
        <translation>Reason</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="322"/>
        <source>并入同一地点的已有案件</source>
        <translation>Attach to an open case at the same spot</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="326"/>
        <source>案件</source>
        <translation>Case</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="332"/>
        <location filename="../ui/desk/forms.py" line="34"/>
        <location filename="../ui/desk/intake_tab.py" line="73"/>
        <source>说明</source>
        <translation>Note</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="334"/>
        <source>并入</source>
        <translation>Attach</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="395"/>
        <source>告警已转为案件，但%1未执行：%2。请在“我的待办”中处理。</source>
        <translation>The alert is a case now, but %1 was not done: %2. Take it up in My to-do.</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="397"/>
        <source>连接已关闭</source>
        <translation>the connection closed</translation>
    </message>
    <message>
        <location filename="../ui/desk/progress.py" line="15"/>
        <source>正在提交…</source>
        <translation>Submitting…</translation>
    </message>
    <message>
        <location filename="../ui/desk/progress.py" line="17"/>
        <source>待发送：连接中断，恢复后自动发送</source>
        <translation>Queued: connection lost, sends once it is back</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="406"/>
        <source>已完成</source>
        <translation>Done</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="424"/>
        <source>刚刚</source>
        <translation>just now</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="426"/>
        <source>%1分钟前</source>
        <translation>%1 min ago</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="428"/>
        <source>%1小时前</source>
        <translation>%1 h ago</translation>
    </message>
    <message>
        <location filename="../ui/desk/alerts_page.py" line="429"/>
        <source>%1天前</source>
        <translation>%1 d ago</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="104"/>
        <source>该案件已不在您的列表中</source>
        <translation>This case is no longer in your list</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="126"/>
        <source>等待上一操作的答复</source>
        <translation>Waiting for the answer to the last action</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="134"/>
        <source>案件已被他人更新，请重新选择操作</source>
        <translation>Someone else updated the case. Choose the action again</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="232"/>
        <location filename="../ui/desk/texts.py" line="144"/>
        <source>系统</source>
        <translation>System</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="102"/>
        <source>该案件已结束（办结或不予受理），大屏只显示办理中的案件</source>
        <translation>This case has ended (closed or rejected); the wall shows only cases in progress</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="129"/>
        <location filename="../ui/desk/texts.py" line="52"/>
        <source>督办</source>
        <translation>Supervision</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="131"/>
        <source>会商</source>
        <translation>Consultation</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="133"/>
        <source>挂账</source>
        <translation>Long-term hold</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="135"/>
        <source>延期待批</source>
        <translation>Extension pending</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="137"/>
        <source>挂账待批</source>
        <translation>Hold pending</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="139"/>
        <source>返工%1次</source>
        <translation>Reworked %1×</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="141"/>
        <source>重办%1次</source>
        <translation>Reopened %1×</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="144"/>
        <location filename="../ui/desk/texts.py" line="19"/>
        <source>待分拨</source>
        <translation>Awaiting triage</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="146"/>
        <location filename="../ui/desk/texts.py" line="29"/>
        <location filename="../ui/desk/texts.py" line="67"/>
        <source>超期</source>
        <translation>Overdue</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="155"/>
        <location filename="../ui/desk/files.py" line="335"/>
        <location filename="../ui/desk/forms.py" line="79"/>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="156"/>
        <location filename="../ui/desk/categories_tab.py" line="68"/>
        <location filename="../ui/desk/categories_tab.py" line="87"/>
        <location filename="../ui/desk/categories_tab.py" line="564"/>
        <source>紧急程度</source>
        <translation>Priority</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="157"/>
        <location filename="../ui/desk/files.py" line="336"/>
        <source>来源</source>
        <translation>Source</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="159"/>
        <source>地点</source>
        <translation>Location</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="174"/>
        <source>层级</source>
        <translation>Level</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="175"/>
        <source>上报时间</source>
        <translation>Reported</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="181"/>
        <location filename="../ui/case_sheet.py" line="183"/>
        <source>接入渠道</source>
        <translation>Channel</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="183"/>
        <source>传感器 %1</source>
        <translation>Sensor %1</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="185"/>
        <location filename="../ui/desk/intake_tab.py" line="86"/>
        <source>工单编号</source>
        <translation>Work order</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="189"/>
        <source>定位</source>
        <translation>Located by</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="192"/>
        <source>发生时间</source>
        <translation>Happened at</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="194"/>
        <source>原诉求类型</source>
        <translation>Original request type</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="196"/>
        <source>办理时限</source>
        <translation>Platform deadline</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="198"/>
        <source>附件链接</source>
        <translation>Attachment link</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="201"/>
        <source>补充信息</source>
        <translation>Details given</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="204"/>
        <source>反映人</source>
        <translation>Reporter</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="206"/>
        <location filename="../ui/desk/forms.py" line="60"/>
        <source>主办单位</source>
        <translation>Lead unit</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="210"/>
        <location filename="../ui/desk/forms.py" line="66"/>
        <source>协办单位</source>
        <translation>Assisting units</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="215"/>
        <source>结案时限</source>
        <translation>Due</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="217"/>
        <source>超期风险</source>
        <translation>Deadline risk</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="267"/>
        <source>处理记录暂时无法载入（连接中断）</source>
        <translation>Case record unavailable for now (connection lost)</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="273"/>
        <location filename="../ui/case_sheet.py" line="279"/>
        <source>处理记录无法载入：%1</source>
        <translation>Case record could not be loaded: %1</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="281"/>
        <source>仅显示最近的记录</source>
        <translation>Showing the latest entries only</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="313"/>
        <location filename="../ui/desk/intake_tab.py" line="64"/>
        <source>已送达</source>
        <translation>delivered</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="315"/>
        <location filename="../ui/desk/intake_tab.py" line="65"/>
        <source>被拒收</source>
        <translation>refused by the platform</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="317"/>
        <source>待送达（已试%1次）</source>
        <translation>to deliver (%1 tries so far)</translation>
    </message>
    <message>
        <location filename="../ui/case_sheet.py" line="321"/>
        <source>反馈%1</source>
        <translation>Feedback %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="196"/>
        <source>%1 已完成</source>
        <translation>%1 done</translation>
    </message>
    <message>
        <location filename="../ui/desk/case_pane.py" line="211"/>
        <source>正在核对案件的最新状态…</source>
        <translation>Checking the case&apos;s latest state…</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="83"/>
        <source>区级疑难案件</source>
        <translation>Difficult cases (district)</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="84"/>
        <location filename="../ui/desk/texts.py" line="27"/>
        <source>会商中</source>
        <translation>In consultation</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="85"/>
        <source>督办中</source>
        <translation>Under supervision</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="86"/>
        <source>待审批延期与挂账</source>
        <translation>Extensions and holds to approve</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="87"/>
        <source>今日批示</source>
        <translation>Today&apos;s instructions</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="179"/>
        <source>今日值班尚未交接</source>
        <translation>Today&apos;s duty not handed over yet</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="183"/>
        <source>%1 值班指挥长：%2 %3（%4 交班）</source>
        <translation>%1 commander on duty: %2 %3 (handover %4)</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="188"/>
        <source>值班人员：%1</source>
        <translation>On duty: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="228"/>
        <location filename="../ui/desk/duty_page.py" line="271"/>
        <source>发布批示</source>
        <translation>Issue instruction</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="229"/>
        <location filename="../ui/desk/duty_page.py" line="279"/>
        <location filename="../ui/desk/texts.py" line="63"/>
        <source>交班记录</source>
        <translation>Shift note</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="230"/>
        <location filename="../ui/desk/duty_page.py" line="295"/>
        <location filename="../ui/desk/texts.py" line="62"/>
        <source>交接班</source>
        <translation>Handover</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="242"/>
        <location filename="../ui/desk/map_page.py" line="171"/>
        <source>（超期）</source>
        <translation> (overdue)</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="249"/>
        <source>意见：%1（%2）</source>
        <translation>Opinion: %1 (%2)</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="272"/>
        <source>批示内容</source>
        <translation>Instruction</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="273"/>
        <source>发布</source>
        <translation>Issue</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="274"/>
        <source>批示发往全区各中心，并显示在大屏上</source>
        <translation>The instruction goes to every centre in the district and shows on the wall</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="283"/>
        <source>留给下一班的交班记录</source>
        <translation>Note for the next shift</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="291"/>
        <source>写入本班交接班报告；再次保存将替换</source>
        <translation>Goes into this shift&apos;s handover report; saving again replaces it</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="297"/>
        <source>接班指挥长</source>
        <translation>Incoming commander</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="298"/>
        <location filename="../ui/desk/roster_tab.py" line="56"/>
        <location filename="../ui/desk/roster_tab.py" line="284"/>
        <source>职务</source>
        <translation>Title</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="298"/>
        <location filename="../ui/desk/roster_tab.py" line="55"/>
        <location filename="../ui/desk/roster_tab.py" line="277"/>
        <source>县干指挥长</source>
        <translation>Duty commander</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="299"/>
        <source>交班说明</source>
        <translation>Handover note</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="301"/>
        <source>交班</source>
        <translation>Hand over</translation>
    </message>
    <message>
        <location filename="../ui/desk/duty_page.py" line="354"/>
        <source>未来24小时预计转为超期：%1（合计 %2，模型估计，口径见指标定义 §8）</source>
        <translation>Expected to turn overdue in the next 24 h: %1 (total %2; a model&apos;s estimate, defined in the KPI definitions §8)</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="37"/>
        <source>可选：写进案件记录</source>
        <translation>Optional: goes into the case record</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="50"/>
        <source>不予受理原因</source>
        <translation>Reason for rejecting</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="53"/>
        <source>（建议）</source>
        <translation> (suggested)</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="83"/>
        <source>12345 诉求类型：%1</source>
        <translation>12345 request type: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="93"/>
        <source>核查结果</source>
        <translation>Verification result</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="96"/>
        <source>通过</source>
        <translation>Passed</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="96"/>
        <source>不通过，返工</source>
        <translation>Failed, rework</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="99"/>
        <source>核查意见</source>
        <translation>Verification note</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="106"/>
        <source>满意度（1–5）</source>
        <translation>Satisfaction (1–5)</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="108"/>
        <source>1–2 分（不满意）将重新派遣并督办</source>
        <translation>A score of 1–2 (dissatisfied) re-dispatches the case under supervision</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="114"/>
        <source>延长小时数</source>
        <translation>Extra hours</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="115"/>
        <source>延期理由</source>
        <translation>Reason for extension</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="118"/>
        <source>须在时限届满前申请，由上级审批</source>
        <translation>Request before the deadline; the level above approves</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="125"/>
        <source>%1 申请：%2</source>
        <translation>Requested by %1: %2</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="134"/>
        <source>审批结果</source>
        <translation>Decision</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="137"/>
        <source>批准</source>
        <translation>Approve</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="137"/>
        <source>不批准</source>
        <translation>Refuse</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="140"/>
        <source>审批意见</source>
        <translation>Decision note</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="149"/>
        <source>挂账原因</source>
        <translation>Reason for long-term hold</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="152"/>
        <source>复查日期</source>
        <translation>Review date</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="159"/>
        <source>批准后案件计时暂停，至复查日期或解除时恢复</source>
        <translation>Once approved, the case&apos;s clock stops until the review date or release</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="163"/>
        <source>内容</source>
        <translation>Text</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="174"/>
        <source>个自然日</source>
        <translation> calendar days</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="174"/>
        <source>个工作日</source>
        <translation> working days</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="176"/>
        <source>小时（自然时间）</source>
        <translation> hours (calendar time)</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="176"/>
        <source>个工作小时</source>
        <translation> working hours</translation>
    </message>
    <message>
        <location filename="../ui/desk/forms.py" line="177"/>
        <source>处置时限：派遣后 %1%2</source>
        <translation>Time to handle: %1%2 from dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="20"/>
        <source>待受理</source>
        <translation>To accept</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="21"/>
        <source>待派遣</source>
        <translation>To dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="22"/>
        <source>处置中</source>
        <translation>Handling</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="23"/>
        <source>待核查</source>
        <translation>To verify</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="24"/>
        <source>待结案</source>
        <translation>To close</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="25"/>
        <source>待审批</source>
        <translation>To approve</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="26"/>
        <source>区级案件</source>
        <translation>District cases</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="28"/>
        <source>待督办</source>
        <translation>To supervise</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="34"/>
        <source>登记</source>
        <translation>Register</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="60"/>
        <location filename="../ui/desk/categories_tab.py" line="84"/>
        <location filename="../ui/desk/categories_tab.py" line="342"/>
        <source>编码</source>
        <translation>Code</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="61"/>
        <location filename="../ui/desk/categories_tab.py" line="91"/>
        <location filename="../ui/desk/categories_tab.py" line="92"/>
        <source>大类</source>
        <translation>Class</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="62"/>
        <location filename="../ui/desk/categories_tab.py" line="85"/>
        <location filename="../ui/desk/categories_tab.py" line="548"/>
        <location filename="../ui/desk/intake_tab.py" line="77"/>
        <source>名称</source>
        <translation>Name</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="63"/>
        <location filename="../ui/desk/texts.py" line="35"/>
        <source>受理</source>
        <translation>Accept</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="65"/>
        <source>处置</source>
        <translation>Handle</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="67"/>
        <source>计时</source>
        <translation>Clock</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="69"/>
        <location filename="../ui/desk/categories_tab.py" line="89"/>
        <location filename="../ui/desk/categories_tab.py" line="556"/>
        <source>责任部门</source>
        <translation>Department</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="70"/>
        <location filename="../ui/desk/categories_tab.py" line="592"/>
        <source>立案结案标准</source>
        <translation>Case and closure standard</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="73"/>
        <source>受理时限</source>
        <translation>Time to accept</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="74"/>
        <source>派遣时限</source>
        <translation>Time to dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="75"/>
        <source>处置时限</source>
        <translation>Time to handle</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="76"/>
        <source>核查时限</source>
        <translation>Time to verify</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="79"/>
        <source>工作时间</source>
        <translation>Working time</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="80"/>
        <source>自然时间</source>
        <translation>Calendar time</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="86"/>
        <source>结案标准</source>
        <translation>Closure standard</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="88"/>
        <location filename="../ui/desk/categories_tab.py" line="572"/>
        <source>计时方式</source>
        <translation>Clock</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="90"/>
        <source>时限</source>
        <translation>Time limits</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="93"/>
        <source>对应分类</source>
        <translation>Category</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="94"/>
        <source>来源渠道</source>
        <translation>Channels</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="95"/>
        <source>权重</source>
        <translation>Weight</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="138"/>
        <source>事项分类（立案结案标准）</source>
        <translation>Categories (case and closure standards)</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="145"/>
        <source>筛选：编码、名称、大类或部门（Ctrl+F）</source>
        <translation>Filter: code, name, class or department (Ctrl+F)</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="260"/>
        <source>共 %1 个大类、%2 项</source>
        <translation>%1 classes, %2 categories</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="279"/>
        <location filename="../ui/desk/categories_tab.py" line="305"/>
        <source>修改</source>
        <translation>Change</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="305"/>
        <source>先选择一项分类</source>
        <translation>Select a category first</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="306"/>
        <location filename="../ui/desk/categories_tab.py" line="350"/>
        <source>新增分类</source>
        <translation>New category</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="307"/>
        <source>载入分类表文件</source>
        <translation>Load table file</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="329"/>
        <source>时限写法：h 小时、m 分钟、d 天（如 4h、30m、3d）；按工作时间计时每个工作日 7 小时。新时限对此后登记的案件生效</source>
        <translation>Limits: h hours, m minutes, d days (e.g. 4h, 30m, 3d); in working time a working day has 7 hours. New limits apply to cases registered from now on</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="335"/>
        <source>修改分类 · %1 %2</source>
        <translation>Change category · %1 %2</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="319"/>
        <location filename="../ui/desk/categories_tab.py" line="336"/>
        <location filename="../ui/desk/duty_page.py" line="290"/>
        <location filename="../ui/desk/roster_tab.py" line="296"/>
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="346"/>
        <source>大类-序号，如 01-99</source>
        <translation>class-item, e.g. 01-99</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="348"/>
        <source>大类名称（新大类时填写）</source>
        <translation>Class name (for a new class)</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="350"/>
        <source>新增</source>
        <translation>Add</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="409"/>
        <location filename="../ui/desk/categories_tab.py" line="385"/>
        <location filename="../ui/desk/roster_tab.py" line="349"/>
        <source>正在保存…</source>
        <translation>Saving…</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="413"/>
        <source>编码须为“大类-序号”，如 01-99</source>
        <translation>The code is class-item, e.g. 01-99</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="416"/>
        <source>编码 %1 已有（%2），请选中后修改</source>
        <translation>Code %1 exists (%2): select it and change it</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="422"/>
        <source>大类 %1 尚无，请填写大类名称</source>
        <translation>There is no class %1 yet: give the class a name</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="425"/>
        <source>大类 %1 名为“%2”</source>
        <translation>Class %1 is named “%2”</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="428"/>
        <source>特急、紧急事项须按自然时间计时</source>
        <translation>Priorities 1–2 run in calendar time</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="442"/>
        <source>连接中断，不能确定是否已保存；请稍候核对表中时限</source>
        <translation>Connection lost: not known whether it was saved; check the limits in the table shortly</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="445"/>
        <location filename="../ui/desk/roster_tab.py" line="368"/>
        <source>未保存：%1</source>
        <translation>Not saved: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="448"/>
        <source>已保存 %1 %2：新时限对此后登记的案件生效</source>
        <translation>Saved %1 %2: the new limits apply to cases registered from now on</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="456"/>
        <source>选择分类表文件</source>
        <translation>Choose a category table file</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="456"/>
        <source>分类表 (*.json)</source>
        <translation>Category tables (*.json)</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="470"/>
        <location filename="../ui/desk/categories_tab.py" line="501"/>
        <source>载入分类表 · %1</source>
        <translation>Load category table · %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="470"/>
        <location filename="../ui/desk/categories_tab.py" line="502"/>
        <source>载入</source>
        <translation>Load</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="472"/>
        <source>正在检查…</source>
        <translation>Checking…</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="479"/>
        <source>无法读取文件：%1</source>
        <translation>Cannot read the file: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="492"/>
        <source>连接中断，未载入</source>
        <translation>Connection lost: not loaded</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="496"/>
        <source>文件未通过检查，未作任何更改：
%1</source>
        <translation>The file did not pass the checks; nothing changed:
%1</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="500"/>
        <source>检查通过：%1。按 Enter 载入，Esc 取消</source>
        <translation>Checks passed: %1. Enter loads it, Esc cancels</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="515"/>
        <source>连接中断，不能确定是否已载入；请稍候核对分类表</source>
        <translation>Connection lost: not known whether it was loaded; check the table shortly</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="518"/>
        <source>未载入：%1</source>
        <translation>Not loaded: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="521"/>
        <source>已载入 %1：%2</source>
        <translation>Loaded %1: %2</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="585"/>
        <source>如 4h、30m、3d</source>
        <translation>e.g. 4h, 30m, 3d</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="606"/>
        <source>%1 天</source>
        <translation>%1 d</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="608"/>
        <source>%1 分钟</source>
        <translation>%1 min</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="609"/>
        <source>%1 小时</source>
        <translation>%1 h</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="615"/>
        <source>%1“%2”超过一年（长期案件请挂账）</source>
        <translation>%1 “%2” is over a year (put long cases on hold)</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="618"/>
        <source>%1“%2”：按工作时间计时须为整数天，或改用小时（每个工作日 7 小时）</source>
        <translation>%1 “%2”: in working time use whole days, or hours (7 per working day)</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="622"/>
        <source>%1“%2”写法不对，应如 4h、0.5h、30m、3d</source>
        <translation>%1 “%2” is not a time limit; write e.g. 4h, 0.5h, 30m, 3d</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="628"/>
        <source>新增 %1 项、修改 %2 项、删除 %3 项</source>
        <translation>%1 added, %2 changed, %3 removed</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="640"/>
        <source>注意：以下视频识别类型没有对应分类，确认告警时须手选分类：%1</source>
        <translation>Note: these camera detections map to no category; confirming their alerts needs one chosen: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="649"/>
        <source>识别类型 %1</source>
        <translation>Detection %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="654"/>
        <source>“%1”写法不对，应如 4h、0.5h、30m、3d</source>
        <translation>“%1” is not a time limit; write e.g. 4h, 0.5h, 30m, 3d</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="655"/>
        <source>“%1”超过一年</source>
        <translation>“%1” is over a year</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="656"/>
        <source>“%1”：按工作时间计时须为整数天</source>
        <translation>“%1”: in working time use whole days</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="657"/>
        <source>没有部门“%1”</source>
        <translation>no department “%1”</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="658"/>
        <location filename="../ui/desk/categories_tab.py" line="659"/>
        <source>未填写</source>
        <translation>missing</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="660"/>
        <source>“%1”须为 1 到 4</source>
        <translation>“%1” must be 1 to 4</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="661"/>
        <source>紧急程度 %1 须按自然时间计时</source>
        <translation>priority %1 runs in calendar time</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="662"/>
        <source>“%1”须为工作时间或自然时间</source>
        <translation>“%1” must be working or calendar time</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="663"/>
        <source>缺少 %1 的时限</source>
        <translation>no limit for %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="664"/>
        <source>没有这一环节</source>
        <translation>no such stage</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="665"/>
        <source>重复</source>
        <translation>repeated</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="666"/>
        <source>编码写法不对，应如 01-02</source>
        <translation>the code is written like 01-02</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="667"/>
        <source>没有大类 %1</source>
        <translation>no class %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="668"/>
        <source>对应的分类 %1 不在表中</source>
        <translation>its category %1 is not in the table</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="669"/>
        <source>大类 %1 已有名称；改名须载入分类表</source>
        <translation>class %1 has a name; rename it by loading a table</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="670"/>
        <source>文件不是有效的 JSON</source>
        <translation>the file is not valid JSON</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="681"/>
        <location filename="../ui/desk/roster_tab.py" line="398"/>
        <source>无权执行（已记录）</source>
        <translation>Not allowed (recorded)</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="689"/>
        <source>%1（%2 件）</source>
        <translation>%1 (%2 cases)</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="692"/>
        <source>已有案件使用表中删去的分类：%1。未作任何更改，请在表中保留这些分类</source>
        <translation>Cases use categories the table drops: %1. Nothing changed; keep them in the table</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="698"/>
        <source>另有 %1 处问题</source>
        <translation>%1 more problems</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="36"/>
        <source>不予受理</source>
        <translation>Reject</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="64"/>
        <location filename="../ui/desk/texts.py" line="38"/>
        <source>派遣</source>
        <translation>Dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="39"/>
        <source>签收</source>
        <translation>Sign for</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="40"/>
        <source>开始处置</source>
        <translation>Start handling</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="41"/>
        <source>处置完毕</source>
        <translation>Finish handling</translation>
    </message>
    <message>
        <location filename="../ui/desk/categories_tab.py" line="66"/>
        <location filename="../ui/desk/texts.py" line="42"/>
        <source>核查</source>
        <translation>Verify</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="37"/>
        <source>分拨定类</source>
        <translation>Classify</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="43"/>
        <source>结案</source>
        <translation>Close</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="44"/>
        <source>评价</source>
        <translation>Evaluate</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="45"/>
        <source>退单</source>
        <translation>Send back</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="46"/>
        <source>申请延期</source>
        <translation>Request extension</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="47"/>
        <source>延期审批</source>
        <translation>Decide extension</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="48"/>
        <source>申请挂账</source>
        <translation>Request hold</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="49"/>
        <source>挂账审批</source>
        <translation>Decide hold</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="50"/>
        <source>解除挂账</source>
        <translation>Release hold</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="51"/>
        <source>上报</source>
        <translation>Escalate</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="53"/>
        <source>发起会商</source>
        <translation>Start consultation</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="54"/>
        <source>会商意见</source>
        <translation>Consultation decision</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="55"/>
        <source>结束会商</source>
        <translation>End consultation</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="56"/>
        <source>批示</source>
        <translation>Instruct</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="57"/>
        <source>重新派遣</source>
        <translation>Re-dispatch</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="58"/>
        <source>协办反馈</source>
        <translation>Assisting report</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="59"/>
        <source>确认告警</source>
        <translation>Confirm alert</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="61"/>
        <source>并入案件</source>
        <translation>Attach to case</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="66"/>
        <source>核查不通过</source>
        <translation>Check failed (rework)</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="68"/>
        <source>超过结案时限</source>
        <translation>Closure deadline missed</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="69"/>
        <source>自动上报</source>
        <translation>Auto-escalated</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="70"/>
        <source>自动督办</source>
        <translation>Auto-supervised</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="71"/>
        <source>评价不满意，自动重办</source>
        <translation>Poor rating: reopened automatically</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="72"/>
        <source>到期解除挂账</source>
        <translation>Hold released (due)</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="77"/>
        <source>坐标</source>
        <translation>coordinates</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="78"/>
        <source>门牌/地标</source>
        <translation>address/landmark</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="79"/>
        <source>道路</source>
        <translation>road</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="80"/>
        <source>网格</source>
        <translation>grid</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="81"/>
        <source>社区</source>
        <translation>community</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="137"/>
        <source>交接班报告</source>
        <translation>Handover reports</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="145"/>
        <source>打开报告</source>
        <translation>Open report</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="146"/>
        <source>保存 PDF…</source>
        <translation>Save PDF…</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="189"/>
        <source>尚未连接调度服务</source>
        <translation>Not connected to the dispatch service yet</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="194"/>
        <source>正在载入班次…</source>
        <translation>Loading the shifts…</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="210"/>
        <source>进行中</source>
        <translation>in progress</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="211"/>
        <source> · 有交班记录</source>
        <translation> · with a shift note</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="213"/>
        <source>%1 至 %2 · 值班指挥长 %3</source>
        <translation>%1 to %2 · duty commander %3</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="224"/>
        <source>共 %1 个班次</source>
        <translation>%1 shift(s)</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="241"/>
        <source>请先选择班次</source>
        <translation>Choose a shift first</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="243"/>
        <source>正在生成报告…</source>
        <translation>Making the report…</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="254"/>
        <source>无法取得报告：%1</source>
        <translation>Could not get the report: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="266"/>
        <source>已打开 %1</source>
        <translation>Opened %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="275"/>
        <source>已保存 %1</source>
        <translation>Saved %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="279"/>
        <source>保存交接班报告</source>
        <translation>Save the handover report</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="279"/>
        <source>PDF 文件 (*.pdf)</source>
        <translation>PDF files (*.pdf)</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="307"/>
        <location filename="../ui/desk/files.py" line="394"/>
        <source>导出事件</source>
        <translation>Export cases</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="331"/>
        <source>上报日期自</source>
        <translation>Reported from</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="332"/>
        <source>至</source>
        <translation>to</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="333"/>
        <location filename="../ui/desk/texts.py" line="82"/>
        <source>街道</source>
        <translation>street</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="337"/>
        <source>格式</source>
        <translation>Format</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="340"/>
        <source>导出…</source>
        <translation>Export…</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="342"/>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="380"/>
        <source>正在导出…</source>
        <translation>Exporting…</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="384"/>
        <source>导出失败：%1</source>
        <translation>Export failed: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="389"/>
        <source>已导出到 %1</source>
        <translation>Exported to %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="392"/>
        <source>Excel 文件 (*.xlsx)</source>
        <translation>Excel files (*.xlsx)</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="392"/>
        <source>CSV 文件 (*.csv)</source>
        <translation>CSV files (*.csv)</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="83"/>
        <source>未匹配，待核实</source>
        <translation>not matched, to be checked</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="91"/>
        <source>指挥长</source>
        <translation>Commander</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="92"/>
        <source>调度员</source>
        <translation>Dispatcher</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="93"/>
        <source>街道分中心</source>
        <translation>Street sub-centre</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="94"/>
        <source>社区工作站</source>
        <translation>Community workstation</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="95"/>
        <source>管理员</source>
        <translation>Admin</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="96"/>
        <source>大屏</source>
        <translation>Wall</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="97"/>
        <source>接入网关</source>
        <translation>Intake gateway</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="167"/>
        <source>该案件已由%1%2（现为%3），操作未执行</source>
        <translation>Case already taken by %1 (%2, now %3). Action not carried out</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="173"/>
        <source>该案件状态已变为%1，操作未执行</source>
        <translation>The case is now %1. Action not carried out</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="175"/>
        <source>该案件不存在或不在您的辖区内</source>
        <translation>No such case, or it is outside your jurisdiction</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="177"/>
        <source>您的角色或辖区无权执行此操作（已记录）</source>
        <translation>Your role or jurisdiction does not allow this action (logged)</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="179"/>
        <source>按职责分离要求，此操作须由他人完成（处置人不能核查或结案，申请人不能自批）</source>
        <translation>Separation of duties: someone else must do this (the handler cannot verify or close, the requester cannot approve)</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="181"/>
        <source>填写的内容未通过检查：%1</source>
        <translation>The form did not pass the check: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="183"/>
        <source>服务暂时繁忙，操作未执行，请稍后重试</source>
        <translation>The service is busy. Action not carried out; try again shortly</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="184"/>
        <source>操作未执行：%1</source>
        <translation>Action not carried out: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/texts.py" line="193"/>
        <source>剩 %1</source>
        <translation>%1 left</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="62"/>
        <source>点击网格查看其未结案件</source>
        <translation>Click a grid to list its open cases</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="69"/>
        <source>定位当前案件 L</source>
        <translation>Locate current case L</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="72"/>
        <source>导出态势图…</source>
        <translation>Export situation map…</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="73"/>
        <source>此刻的地图存为一个网页文件，无需网络即可打开、转发</source>
        <translation>Save the map as it is now as one web page file that opens and can be passed on with no network</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="85"/>
        <source>正在载入地图…</source>
        <translation>Loading the map…</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="165"/>
        <source>%1：未结案件 %2 件</source>
        <translation>%1: %2 open cases</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="194"/>
        <source>态势图</source>
        <translation>situation-map</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="197"/>
        <location filename="../ui/desk/map_page.py" line="206"/>
        <source>导出态势图</source>
        <translation>Export situation map</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="197"/>
        <source>网页 (*.html)</source>
        <translation>Web page (*.html)</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="408"/>
        <location filename="../ui/desk/map_page.py" line="207"/>
        <source>无法写入 %1：%2</source>
        <translation>Cannot write %1: %2</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="215"/>
        <source>地图数据尚未载入</source>
        <translation>the map&apos;s data has not arrived yet</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="231"/>
        <source>示意图，非标准地图 · %1 导出</source>
        <translation>Schematic, not a standard map · exported %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/map_page.py" line="233"/>
        <source>%1态势图 %2</source>
        <translation>%1 situation map %2</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="57"/>
        <source>只显示这一次，请立即交给本人；令牌等同密码</source>
        <translation>Shown this once only: hand it to the user now; the token is a password</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="64"/>
        <location filename="../ui/desk/admin_page.py" line="301"/>
        <source>用户名</source>
        <translation>User name</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="65"/>
        <source>显示名</source>
        <translation>Display name</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="66"/>
        <location filename="../ui/desk/admin_page.py" line="357"/>
        <source>角色</source>
        <translation>Role</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="67"/>
        <source>辖区</source>
        <translation>Jurisdiction</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="68"/>
        <source>创建时间</source>
        <translation>Created</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="69"/>
        <location filename="../ui/desk/files.py" line="334"/>
        <location filename="../ui/desk/intake_tab.py" line="69"/>
        <location filename="../ui/desk/intake_tab.py" line="88"/>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="133"/>
        <source>用户与角色</source>
        <translation>Users and roles</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="156"/>
        <location filename="../ui/desk/admin_page.py" line="519"/>
        <source>复制</source>
        <translation>Copy</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_common.py" line="66"/>
        <location filename="../ui/desk/admin_page.py" line="393"/>
        <location filename="../ui/desk/categories_tab.py" line="370"/>
        <location filename="../ui/desk/roster_tab.py" line="326"/>
        <source>尚未连接到调度服务</source>
        <translation>Not connected to the dispatch service yet</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="208"/>
        <location filename="../ui/desk/categories_tab.py" line="377"/>
        <location filename="../ui/desk/roster_tab.py" line="170"/>
        <source>正在载入…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="216"/>
        <source>用户列表暂时无法载入（连接中断）</source>
        <translation>The user list cannot be loaded now (connection lost)</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="217"/>
        <location filename="../ui/desk/admin_page.py" line="225"/>
        <source>用户列表无法载入：%1</source>
        <translation>The user list cannot be loaded: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="236"/>
        <source>全区</source>
        <translation>Whole district</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="243"/>
        <source>已停用</source>
        <translation>Revoked</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="243"/>
        <source>有效</source>
        <translation>Active</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="254"/>
        <source>共 %1 个用户，%2 个有效</source>
        <translation>%1 users, %2 active</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="271"/>
        <source>不能停用自己的账号</source>
        <translation>You cannot revoke your own account</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="274"/>
        <source>不能在此修改自己的账号</source>
        <translation>Your own account cannot be changed here</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="277"/>
        <location filename="../ui/desk/admin_page.py" line="299"/>
        <source>新建用户</source>
        <translation>New user</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="281"/>
        <source>停用</source>
        <translation>Revoke</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="282"/>
        <location filename="../ui/desk/files.py" line="144"/>
        <location filename="../ui/desk/intake_tab.py" line="372"/>
        <location filename="../ui/desk/roster_tab.py" line="252"/>
        <source>刷新</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="305"/>
        <source>用户名不能与已有用户相同；令牌只显示一次</source>
        <translation>The user name must not be taken already; the token is shown only once</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="314"/>
        <source>修改用户 · %1</source>
        <translation>Change user · %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="317"/>
        <source>重新生成令牌（旧令牌立即失效）</source>
        <translation>Issue a new token (the old one stops working at once)</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="320"/>
        <source>改变角色、辖区或令牌后，该用户已打开的连接会被断开，需重新登录</source>
        <translation>After a change of role, jurisdiction or token, the user&apos;s open connections are closed and it must sign in again</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="350"/>
        <source>显示名（如 菱湖街道分中心 王芳；可不填）</source>
        <translation>Display name (e.g. Linghu sub-centre Wang Fang; optional)</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="365"/>
        <source>街道（不选为全区）</source>
        <translation>Streets (none: the whole district)</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="372"/>
        <source>社区（仅社区工作站）</source>
        <translation>Communities (community workstations only)</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="596"/>
        <location filename="../ui/desk/intake_tab.py" line="68"/>
        <source>接入</source>
        <translation>Intakes</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="304"/>
        <source>创建</source>
        <translation>Create</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="328"/>
        <source>停用用户 · %1</source>
        <translation>Revoke user · %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="330"/>
        <source>确认停用</source>
        <translation>Revoke</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="331"/>
        <source>%1 的令牌将立即失效，已打开的连接会被断开。按 Enter 确认，Esc 取消</source>
        <translation>%1&apos;s token stops working at once and its open connections are closed. Enter confirms, Esc cancels</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="406"/>
        <source>正在创建…</source>
        <translation>Creating…</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="413"/>
        <source>正在停用…</source>
        <translation>Revoking…</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="437"/>
        <source>连接中断，不能确定是否已创建；请刷新列表核对创建时间</source>
        <translation>Connection lost: not known whether the user was created; refresh the list and check the creation time</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="440"/>
        <source>未创建：%1</source>
        <translation>Not created: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="444"/>
        <location filename="../ui/desk/admin_page.py" line="474"/>
        <source>未收到令牌，请重试</source>
        <translation>No token received; try again</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="467"/>
        <source>连接中断，不能确定是否已修改；请刷新列表核对</source>
        <translation>Connection lost: not sure whether the user was changed; refresh the list to check</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="470"/>
        <source>未修改：%1</source>
        <translation>Not changed: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="477"/>
        <source>已修改 %1</source>
        <translation>Changed %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="489"/>
        <source>连接中断，不能确定是否已停用；请刷新列表核对</source>
        <translation>Connection lost: not known whether the user was revoked; refresh the list to check</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="492"/>
        <source>未停用：%1</source>
        <translation>Not revoked: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="495"/>
        <source>已停用 %1</source>
        <translation>Revoked %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="502"/>
        <source>%1 的令牌</source>
        <translation>Token of %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="513"/>
        <source>已复制</source>
        <translation>Copied</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="538"/>
        <source>社区工作站用户的辖区是社区，不能选街道</source>
        <translation>A community workstation&apos;s jurisdiction is communities, not streets</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="540"/>
        <source>社区工作站用户须至少选择一个社区</source>
        <translation>A community workstation needs at least one community</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="542"/>
        <source>只有社区工作站用户的辖区是社区；其他角色请选街道（不选为全区）</source>
        <translation>Only community workstations have communities; for other roles choose streets (none: the whole district)</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="544"/>
        <source>街道分中心用户须至少选择一个街道</source>
        <translation>A street sub-centre user needs at least one street</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="550"/>
        <source>无权执行（已记录）：%1</source>
        <translation>Not allowed (recorded): %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="552"/>
        <source>没有这个用户</source>
        <translation>No such user</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="554"/>
        <source>已有同名用户。要修改该用户或重新生成其令牌，请在列表中选中它，按 E 修改</source>
        <translation>A user of that name exists. To change it or give it a new token, select it in the list and press E (Change)</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="556"/>
        <location filename="../ui/desk/categories_tab.py" line="683"/>
        <location filename="../ui/desk/intake_tab.py" line="421"/>
        <location filename="../ui/desk/roster_tab.py" line="400"/>
        <source>服务暂时繁忙，请稍后重试</source>
        <translation>The service is busy; try again shortly</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="593"/>
        <source>用户</source>
        <translation>Users</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="594"/>
        <source>排班</source>
        <translation>Duty roster</translation>
    </message>
    <message>
        <location filename="../ui/desk/admin_page.py" line="595"/>
        <source>事项分类</source>
        <translation>Categories</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="54"/>
        <source>日期</source>
        <translation>Date</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="57"/>
        <location filename="../ui/desk/roster_tab.py" line="288"/>
        <source>电话</source>
        <translation>Phone</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="58"/>
        <location filename="../ui/desk/roster_tab.py" line="294"/>
        <source>值班人员</source>
        <translation>On duty</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="59"/>
        <source>更新</source>
        <translation>Updated</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="62"/>
        <source>周一</source>
        <translation>Mon</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="63"/>
        <source>周二</source>
        <translation>Tue</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="64"/>
        <source>周三</source>
        <translation>Wed</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="65"/>
        <source>周四</source>
        <translation>Thu</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="66"/>
        <source>周五</source>
        <translation>Fri</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="67"/>
        <source>周六</source>
        <translation>Sat</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="68"/>
        <source>周日</source>
        <translation>Sun</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="114"/>
        <source>排班表（今起四周）</source>
        <translation>Duty roster (four weeks from today)</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="177"/>
        <source>排班表暂时无法载入（连接中断）</source>
        <translation>Roster unavailable for now (connection lost)</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="178"/>
        <location filename="../ui/desk/roster_tab.py" line="187"/>
        <source>排班表无法载入：%1</source>
        <translation>Roster could not be loaded: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="203"/>
        <source>（今日）</source>
        <translation> (today)</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="205"/>
        <source>未排班</source>
        <translation>Not planned</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="223"/>
        <source>%1 天中已排 %2 天</source>
        <translation>%2 of %1 days planned</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="250"/>
        <source>编辑排班</source>
        <translation>Plan the day</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="250"/>
        <source>先选择一天</source>
        <translation>Select a day first</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="251"/>
        <source>清除</source>
        <translation>Clear</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="251"/>
        <source>这一天未排班</source>
        <translation>This day is not planned</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="269"/>
        <source>值班人员每行一人：姓名 岗位 电话（电话可省略），如“赵磊 值班长 13800001111”</source>
        <translation>One person a line: name post phone (phone optional), e.g. “赵磊 值班长 13800001111”</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="271"/>
        <source>今日的值班若已交接，值班人员即时更新；指挥长变更须交接班</source>
        <translation>When today&apos;s duty has been handed over, its roster changes at once; a new commander takes over by handover</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="273"/>
        <source>排班 · %1</source>
        <translation>Duty plan · %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="291"/>
        <source>手机或固话，如 13912345678、0556-5512345</source>
        <translation>Mobile or landline, e.g. 13912345678, 0556-5512345</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="302"/>
        <source>清除排班 · %1</source>
        <translation>Clear the plan · %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="304"/>
        <source>确认清除</source>
        <translation>Clear it</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="305"/>
        <source>这一天将不再有排班；交接班时沿用上一班的值班人员。按 Enter 确认，Esc 取消</source>
        <translation>The day will have no plan; a handover keeps the previous roster. Enter confirms, Esc cancels</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="330"/>
        <source>%1 已过去，不能排班</source>
        <translation>%1 is past: it cannot be planned</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="333"/>
        <source>正在清除…</source>
        <translation>Clearing…</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="338"/>
        <source>指挥长电话“%1”不是手机号或固定电话</source>
        <translation>The commander&apos;s phone “%1” is not a mobile or landline number</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="365"/>
        <source>连接中断，不能确定是否已保存；请刷新核对</source>
        <translation>Connection lost: not known whether it was saved; refresh to check</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="372"/>
        <source>已清除 %1 的排班</source>
        <translation>Cleared the plan of %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="374"/>
        <source>已保存 %1 的排班，当前值班已更新</source>
        <translation>Saved the plan of %1; the duty in force took it</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="376"/>
        <source>已保存 %1 的排班</source>
        <translation>Saved the plan of %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="383"/>
        <source>第 %1 行：</source>
        <translation>Line %1: </translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="385"/>
        <source>请写明%1的岗位，如“%1 调度员”</source>
        <translation>give %1&apos;s post, e.g. “%1 调度员”</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="387"/>
        <source>“%1”不是手机号或固定电话</source>
        <translation>“%1” is not a mobile or landline number</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="389"/>
        <source>姓名、岗位或单位过长（每项至多 50 字）</source>
        <translation>name, post or unit too long (50 characters each at most)</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="391"/>
        <source>%1 重复</source>
        <translation>%1 is listed twice</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="392"/>
        <source>值班人员至多 %1 人</source>
        <translation>At most %1 people on duty</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="405"/>
        <source>这一天已过去（调度服务的今日为 %1）</source>
        <translation>the day is past (the dispatch service&apos;s today is %1)</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="407"/>
        <source>至多提前 %1 天排班</source>
        <translation>plan at most %1 days ahead</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="409"/>
        <source>日期“%1”无效</source>
        <translation>date “%1” is not valid</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="411"/>
        <source>电话“%1”不是手机号或固定电话</source>
        <translation>phone “%1” is not a mobile or landline number</translation>
    </message>
    <message>
        <location filename="../ui/desk/roster_tab.py" line="412"/>
        <source>未通过检查：%1</source>
        <translation>Did not pass the checks: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="57"/>
        <source>12345 工单</source>
        <translation>12345 work orders</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="58"/>
        <source>Open311 市民上报</source>
        <translation>Open311 citizen reports</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="59"/>
        <source>MQTT 视频告警与传感器</source>
        <translation>MQTT camera alerts and sensors</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="62"/>
        <source>待发送</source>
        <translation>Pending</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="63"/>
        <source>发送失败，重试中</source>
        <translation>Failing, retrying</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="70"/>
        <source>接收</source>
        <translation>Taken</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="71"/>
        <source>拒收</source>
        <translation>Refused</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="72"/>
        <source>最近消息</source>
        <translation>Last message</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="76"/>
        <source>类型</source>
        <translation>Type</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="78"/>
        <source>对应</source>
        <translation>Maps to</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="79"/>
        <source>次数</source>
        <translation>Count</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="80"/>
        <source>最近</source>
        <translation>Last</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="81"/>
        <source>读数</source>
        <translation>Reading</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="84"/>
        <source>编号</source>
        <translation>No.</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="85"/>
        <source>对端</source>
        <translation>Peer</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="87"/>
        <source>反馈</source>
        <translation>Feedback</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="89"/>
        <source>尝试</source>
        <translation>Attempts</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="90"/>
        <source>时间</source>
        <translation>Time</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="91"/>
        <source>最后错误</source>
        <translation>Last error</translation>
    </message>
    <message>
        <location filename="../ui/desk/files.py" line="353"/>
        <location filename="../ui/desk/intake_tab.py" line="95"/>
        <source>全部</source>
        <translation>All</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="116"/>
        <location filename="../ui/desk/intake_tab.py" line="245"/>
        <source>无</source>
        <translation>none</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="135"/>
        <source>接入状态</source>
        <translation>Intake status</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="140"/>
        <source>12345 反馈发件箱</source>
        <translation>12345 feedback outbox</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="212"/>
        <source>接入状态暂时无法载入（连接中断）</source>
        <translation>The intake status cannot be loaded for now (connection lost)</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="213"/>
        <location filename="../ui/desk/intake_tab.py" line="221"/>
        <source>接入状态无法载入：%1</source>
        <translation>The intake status cannot be loaded: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="234"/>
        <source>已开启 %1 个接入，共 %2 个</source>
        <translation>%1 of %2 intakes on</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="249"/>
        <source>其中 %1 条发送失败，重试中</source>
        <translation>%1 of them failing, retrying</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="250"/>
        <source>发件箱为空</source>
        <translation>The outbox is empty</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="258"/>
        <source>未开启</source>
        <translation>Off</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="261"/>
        <source>已开启</source>
        <translation>On</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="263"/>
        <source>已连接</source>
        <translation>Connected</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="265"/>
        <source>未连接</source>
        <translation>Not connected</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="289"/>
        <source>摄像头</source>
        <translation>Camera</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="291"/>
        <source>未对应</source>
        <translation>not mapped</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="299"/>
        <source>告警中</source>
        <translation>in alarm</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="302"/>
        <source>传感器</source>
        <translation>Sensor</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="374"/>
        <source>先选择未送达的反馈</source>
        <translation>Select feedback not yet delivered first</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="376"/>
        <source>立即重发</source>
        <translation>Send again now</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="405"/>
        <source>重发未能送出（连接中断），请稍后再试</source>
        <translation>The retry was not sent (connection lost); try again later</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="408"/>
        <source>重发被拒绝：%1</source>
        <translation>The retry was refused: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="411"/>
        <source>已安排重发 %1 条反馈</source>
        <translation>%1 feedback(s) will be sent again now</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="417"/>
        <source>当前角色无此权限</source>
        <translation>your role may not do this</translation>
    </message>
    <message>
        <location filename="../ui/desk/intake_tab.py" line="419"/>
        <source>所选反馈已送达或不存在</source>
        <translation>the feedback selected was delivered already or is gone</translation>
    </message>
</context>
<context>
    <name>DeskWindow</name>
    <message>
        <location filename="../ui/desk/app.py" line="146"/>
        <source>正在启动内置调度服务…</source>
        <translation>Starting the built-in dispatch service…</translation>
    </message>
    <message>
        <location filename="../ui/desk/app.py" line="152"/>
        <source>内置调度服务启动失败：%1</source>
        <translation>The built-in dispatch service failed to start: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="93"/>
        <location filename="../ui/desk/window.py" line="120"/>
        <source>通观 · 中屏管</source>
        <translation>Tongguan · Desk</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="143"/>
        <source>导出事件…</source>
        <translation>Export cases…</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="185"/>
        <source>我的待办 F1</source>
        <translation>My to-do F1</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="186"/>
        <source>视频告警 F2</source>
        <translation>Camera alerts F2</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="187"/>
        <source>县干指挥长 F3</source>
        <translation>Duty commander F3</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="188"/>
        <source>地图 F4</source>
        <translation>Map F4</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="263"/>
        <source>复盘中：只读，不能操作；End 回到实时</source>
        <translation>Replay: read only, no actions; End returns to live</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="276"/>
        <source>复盘中不能操作：按 End 回到实时</source>
        <translation>No actions in replay: press End to return to live</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="294"/>
        <source>尚未连接调度服务</source>
        <translation>Not connected to the dispatch service yet</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="367"/>
        <source>管理 F5</source>
        <translation>Admin F5</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="386"/>
        <source>接入 F5</source>
        <translation>Intakes F5</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="401"/>
        <source>调度服务正在载入今日数据，待办与超期数可能暂不准确…</source>
        <translation>The dispatch service is loading today&apos;s data; to-do and overdue counts may be off for now…</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="402"/>
        <source>暂无主节点：案件办理暂停，操作将排队，主节点恢复后发送</source>
        <translation>No writer: case handling paused; actions wait and are sent once a writer is back</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="413"/>
        <source>全区</source>
        <translation>Whole district</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="413"/>
        <source>全市</source>
        <translation>Whole city</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="440"/>
        <source>● 正在连接调度服务…</source>
        <translation>● Connecting to the dispatch service…</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="455"/>
        <source>账号的令牌或权限已变更，请重新登录</source>
        <translation>Your token or rights changed: sign in again</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="457"/>
        <source>令牌无效或已吊销，请向管理员索取新令牌</source>
        <translation>Token invalid or revoked: ask an administrator for a new one</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="459"/>
        <source>登录被拒绝：%1</source>
        <translation>Sign-in refused: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="463"/>
        <source>● 已连接</source>
        <translation>● Connected</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="474"/>
        <source>● 调度服务重启中，第 %1 次</source>
        <translation>● Dispatch service restarting, attempt %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="478"/>
        <source>● 连接中断，正在重连…</source>
        <translation>● Disconnected, reconnecting…</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="495"/>
        <source>%1 条提交中</source>
        <translation>%1 submitting</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="497"/>
        <source>%1 条待发送</source>
        <translation>%1 queued</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="506"/>
        <source>等 %1 件</source>
        <translation> (%1 in all)</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="507"/>
        <source>新待办：%1 %2</source>
        <translation>New to-do: %1 %2</translation>
    </message>
    <message>
        <location filename="../ui/desk/window.py" line="511"/>
        <source>通观 · 新待办</source>
        <translation>Tongguan · New to-do</translation>
    </message>
</context>
<context>
    <name>DutyPanel</name>
    <message>
        <location filename="../../widgets/duty_panel.py" line="363"/>
        <source>会商中</source>
        <translation>In consultation</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="364"/>
        <source>督办超期</source>
        <translation>Supervised, late</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="388"/>
        <source>今日县干指挥长</source>
        <translation>Commander</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="400"/>
        <location filename="../../widgets/duty_panel.py" line="439"/>
        <location filename="../../widgets/duty_panel.py" line="505"/>
        <location filename="../../widgets/duty_panel.py" line="550"/>
        <source>暂无</source>
        <translation>None</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="416"/>
        <source>电话</source>
        <translation>Tel.</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="430"/>
        <source>值班人员</source>
        <translation>On duty</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="456"/>
        <source>另有{0}人</source>
        <translation>+{0} more</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="475"/>
        <source>另有{0}件</source>
        <translation>+{0} more</translation>
    </message>
    <message>
        <location filename="../../widgets/duty_panel.py" line="545"/>
        <source>指挥长最新指示</source>
        <translation>Latest instructions</translation>
    </message>
</context>
<context>
    <name>EventQueueModel</name>
    <message>
        <location filename="../ui/models.py" line="179"/>
        <source>紧急</source>
        <translation>Prio.</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="180"/>
        <source>来源</source>
        <translation>Source</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="181"/>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="182"/>
        <source>网格</source>
        <translation>Grid</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="183"/>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="184"/>
        <source>风险</source>
        <translation>Risk</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="185"/>
        <source>时限</source>
        <translation>Due</translation>
    </message>
</context>
<context>
    <name>GridDetails</name>
    <message>
        <location filename="../../widgets/grid_details.py" line="45"/>
        <source>网格员信息暂缺</source>
        <translation>No grid worker on record</translation>
    </message>
    <message>
        <location filename="../../widgets/grid_details.py" line="46"/>
        <source>暂无在办事件</source>
        <translation>No open cases</translation>
    </message>
    <message>
        <location filename="../../widgets/grid_details.py" line="48"/>
        <source>另有 %s 件…</source>
        <translation>%s more…</translation>
    </message>
</context>
<context>
    <name>GridMap</name>
    <message>
        <location filename="../../widgets/grid_map.py" line="366"/>
        <source>示意图，非标准地图</source>
        <translation>Schematic, not an approved map</translation>
    </message>
</context>
<context>
    <name>HourlyTrend</name>
    <message>
        <location filename="../../widgets/trend_chart.py" line="161"/>
        <source>今日与昨日每小时接报量</source>
        <translation>Cases received per hour, today and yesterday</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="164"/>
        <source>今日</source>
        <translation>Today</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="168"/>
        <source>昨日</source>
        <translation>Yesterday</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="185"/>
        <source>{0}时</source>
        <translation>{0}:00</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="186"/>
        <source>暂无数据</source>
        <translation>No data</translation>
    </message>
</context>
<context>
    <name>OutageBanner</name>
    <message>
        <location filename="../../widgets/wall_header.py" line="194"/>
        <source>连接中断，数据截至 %s</source>
        <translation>Connection lost. Data as of %s</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="196"/>
        <source>尚未连接到调度服务，暂无数据</source>
        <translation>Not connected to the dispatch service yet. No data</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="198"/>
        <source>&#x3000;·&#x3000;正在第 %s 次重连</source>
        <translation>  ·  Reconnecting, attempt %s</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="200"/>
        <source>（%s）</source>
        <translation> (%s)</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="200"/>
        <source>&#x3000;·&#x3000;%s</source>
        <translation>  ·  %s</translation>
    </message>
</context>
<context>
    <name>ReplayCurve</name>
    <message>
        <location filename="../../widgets/time_bar.py" line="329"/>
        <source>%s–%s 接报 %s 件</source>
        <translation>%s–%s: %s received</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <location filename="../ui/desk/sign_in.py" line="38"/>
        <source>通观 · 登录</source>
        <translation>Tongguan · Sign in</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="44"/>
        <source>令牌文件（权限 600）</source>
        <translation>Token file (mode 600)</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="48"/>
        <source>选择…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="52"/>
        <source>或粘贴令牌</source>
        <translation>or paste the token</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="53"/>
        <source>记住令牌（仅本人可读的文件）</source>
        <translation>Remember the token (in a file only you can read)</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="56"/>
        <source>指挥长</source>
        <translation>Commander</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="57"/>
        <source>调度员</source>
        <translation>Dispatcher</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="58"/>
        <source>菱湖街道分中心</source>
        <translation>Linghu Street sub-centre</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="59"/>
        <source>社区工作站</source>
        <translation>Community workstation</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="60"/>
        <source>管理员</source>
        <translation>Administrator</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="67"/>
        <source>登录</source>
        <translation>Sign in</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="70"/>
        <source>进入本机演示</source>
        <translation>Start local demo</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="76"/>
        <source>服务器</source>
        <translation>Server</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="77"/>
        <source>令牌文件</source>
        <translation>Token file</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="78"/>
        <source>令牌</source>
        <translation>Token</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="81"/>
        <source>本机演示身份</source>
        <translation>Demo as</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="92"/>
        <source>选择令牌文件</source>
        <translation>Choose token file</translation>
    </message>
    <message>
        <location filename="../ui/desk/sign_in.py" line="103"/>
        <source>请给出令牌文件或粘贴令牌</source>
        <translation>Give a token file or paste the token</translation>
    </message>
</context>
<context>
    <name>StreetRanking</name>
    <message>
        <location filename="../../widgets/street_ranking.py" line="180"/>
        <source>暂无数据</source>
        <translation>No data</translation>
    </message>
</context>
<context>
    <name>Texts</name>
    <message>
        <location filename="../ui/models.py" line="452"/>
        <source>特急</source>
        <translation>Critical</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="453"/>
        <source>紧急</source>
        <translation>Urgent</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="454"/>
        <source>一般</source>
        <translation>Normal</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="455"/>
        <source>较低</source>
        <translation>Low</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="459"/>
        <source>12345</source>
        <translation>12345</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="460"/>
        <source>巡查</source>
        <translation>Patrol</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="461"/>
        <source>随手拍</source>
        <translation>Photo</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="462"/>
        <source>视频</source>
        <translation>Camera</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="463"/>
        <source>感知</source>
        <translation>Sensor</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="464"/>
        <source>交办</source>
        <translation>Assigned</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="467"/>
        <source>待受理</source>
        <translation>To accept</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="468"/>
        <source>已受理</source>
        <translation>Accepted</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="469"/>
        <source>不予受理</source>
        <translation>Rejected</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="470"/>
        <source>已派遣</source>
        <translation>Dispatched</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="471"/>
        <source>处置中</source>
        <translation>Handling</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="472"/>
        <source>已处置</source>
        <translation>Handled</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="473"/>
        <source>已核查</source>
        <translation>Verified</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="474"/>
        <source>已结案</source>
        <translation>Closed</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="475"/>
        <source>已评价</source>
        <translation>Rated</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="478"/>
        <source>网格</source>
        <translation>Grid</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="479"/>
        <source>社区</source>
        <translation>Community</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="480"/>
        <source>街道</source>
        <translation>Street</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="481"/>
        <source>区级</source>
        <translation>District</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="501"/>
        <source>%1天%2时</source>
        <translation>%1d %2h</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="504"/>
        <source>%1时%2分</source>
        <translation>%1h %2m</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="507"/>
        <source>%1分</source>
        <translation>%1m</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="509"/>
        <source>超时%1</source>
        <translation>%1 late</translation>
    </message>
    <message>
        <location filename="../ui/models.py" line="517"/>
        <source>险%1%</source>
        <translation>%1%</translation>
    </message>
</context>
<context>
    <name>TimeBar</name>
    <message>
        <location filename="../../widgets/time_bar.py" line="566"/>
        <location filename="../../widgets/time_bar.py" line="684"/>
        <source>回放 %s · 非实时</source>
        <translation>Replay %s · NOT LIVE</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="601"/>
        <source>尚无可回放的日期</source>
        <translation>No day to replay yet</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="604"/>
        <source>时间“%s”无效：请输入 00:00 至 23:59，如 09:40</source>
        <translation>Invalid time “%s”: enter 00:00 to 23:59, e.g. 09:40</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="610"/>
        <source>%s 不在可回放的范围内（%s 至 %s）</source>
        <translation>%s is outside the replayable history (%s to %s)</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="655"/>
        <location filename="../../widgets/time_bar.py" line="688"/>
        <source>暂停</source>
        <translation>Pause</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="655"/>
        <location filename="../../widgets/time_bar.py" line="688"/>
        <source>播放</source>
        <translation>Play</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="659"/>
        <source>前一天</source>
        <translation>Prev day</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="660"/>
        <source>后一天</source>
        <translation>Next day</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="661"/>
        <source>前一天的同一时刻</source>
        <translation>The same time, one day earlier</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="662"/>
        <source>后一天的同一时刻</source>
        <translation>The same time, one day later</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="663"/>
        <source>时:分</source>
        <translation>hh:mm</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="664"/>
        <source>输入时:分后按回车，跳到这一天的该时刻</source>
        <translation>Type hh:mm and press Enter to go to that time of this day</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="665"/>
        <source>正在载入…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="666"/>
        <source>播放或暂停（空格）</source>
        <translation>Play or pause (Space)</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="668"/>
        <source>回放速度：每秒 %s 秒</source>
        <translation>Replay speed: %s seconds per second</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="669"/>
        <source>一步</source>
        <translation>Step</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="670"/>
        <source>前进到下一次变化（→）</source>
        <translation>Forward to the next change (→)</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="671"/>
        <source>回到实时 (End)</source>
        <translation>Back to live (End)</translation>
    </message>
    <message>
        <location filename="../../widgets/time_bar.py" line="672"/>
        <source>结束回放，显示实时数据</source>
        <translation>End the replay and show live data</translation>
    </message>
</context>
<context>
    <name>TodoModel</name>
    <message>
        <location filename="../ui/desk/todo_model.py" line="88"/>
        <source>紧急</source>
        <translation>Priority</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="89"/>
        <source>编号</source>
        <translation>No.</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="90"/>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="91"/>
        <source>事项</source>
        <translation>Subject</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="92"/>
        <source>地点</source>
        <translation>Location</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="93"/>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="94"/>
        <source>风险</source>
        <translation>Risk</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="95"/>
        <source>剩余时限</source>
        <translation>Time left</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_model.py" line="96"/>
        <source>来源</source>
        <translation>Source</translation>
    </message>
</context>
<context>
    <name>TodoPage</name>
    <message>
        <location filename="../ui/desk/todo_page.py" line="56"/>
        <source>搜索编号、地址、内容（Ctrl+F）</source>
        <translation>Search number, address, text (Ctrl+F)</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="58"/>
        <source>只看超期</source>
        <translation>Overdue only</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="59"/>
        <source>只看紧急</source>
        <translation>Urgent only</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="63"/>
        <source>按时限</source>
        <translation>By deadline</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="64"/>
        <source>按上报时间</source>
        <translation>By time reported</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="65"/>
        <source>按紧急程度</source>
        <translation>By priority</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="273"/>
        <source>全部街道</source>
        <translation>All streets</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="342"/>
        <source>%1 件</source>
        <translation>Cases: %1</translation>
    </message>
    <message>
        <location filename="../ui/desk/todo_page.py" line="107"/>
        <location filename="../ui/desk/todo_page.py" line="344"/>
        <source>%1 / %2 件</source>
        <translation>Cases: %1 of %2</translation>
    </message>
</context>
<context>
    <name>WallCase</name>
    <message>
        <location filename="../ui/wall_case.py" line="44"/>
        <source>案件详情 · Esc 关闭</source>
        <translation>Case details · Esc to close</translation>
    </message>
</context>
<context>
    <name>WallHeader</name>
    <message>
        <location filename="../../widgets/wall_header.py" line="104"/>
        <source>静音</source>
        <translation>Muted</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="104"/>
        <source>声音</source>
        <translation>Sound</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="105"/>
        <source>新特急事件提示音（M 键切换）</source>
        <translation>Chime for new critical cases (M toggles)</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="125"/>
        <source>正在连接…</source>
        <translation>Connecting…</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="131"/>
        <source>连接中断</source>
        <translation>Disconnected</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="133"/>
        <source>正在载入…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="137"/>
        <source>数据 %s 秒前</source>
        <translation>Data %s s ago</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="139"/>
        <source>数据 %s 分钟前</source>
        <translation>Data %s min ago</translation>
    </message>
    <message>
        <location filename="../../widgets/wall_header.py" line="146"/>
        <source>复盘 · 非实时</source>
        <translation>Replay · NOT LIVE</translation>
    </message>
</context>
<context>
    <name>WallWindow</name>
    <message>
        <location filename="../ui/app.py" line="307"/>
        <source>内置调度服务启动失败：%s</source>
        <translation>The built-in dispatch service failed to start: %s</translation>
    </message>
    <message>
        <location filename="../ui/app.py" line="314"/>
        <source>正在连接调度服务…（内置调度服务启动中，首次启动需载入全区数据）</source>
        <translation>Connecting to the dispatch service… (the built-in service is starting; a first start loads the whole district)</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="260"/>
        <source>全部在办</source>
        <translation>All open</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="166"/>
        <source>通观 · 智慧联动指挥大屏</source>
        <translation>Tongguan · Smart Linkage Command Wall</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="185"/>
        <source>大观区智慧联动中心 · 一网统管</source>
        <translation>Daguan Smart Linkage Centre</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="257"/>
        <source>全部街道</source>
        <translation>All streets</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="292"/>
        <source>暂无待处理告警</source>
        <translation>No pending alerts</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="312"/>
        <source>今日指标</source>
        <translation>Today&apos;s KPIs</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="363"/>
        <source>网格态势</source>
        <translation>Grid overview</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="371"/>
        <source>县干指挥长</source>
        <translation>Duty commander</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="372"/>
        <source>事件队列</source>
        <translation>Case queue</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="394"/>
        <source>视频告警</source>
        <translation>Camera alerts</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="337"/>
        <source>%s 件</source>
        <translation>%s cases</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="395"/>
        <source>%s 条待处理</source>
        <translation>%s pending</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="97"/>
        <source>按紧急程度</source>
        <translation>By priority</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="98"/>
        <source>按剩余时限</source>
        <translation>By deadline</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="193"/>
        <location filename="../ui/wall.py" line="612"/>
        <source>正在连接调度服务…</source>
        <translation>Connecting to the dispatch service…</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="216"/>
        <location filename="../ui/wall.py" line="300"/>
        <source>正在同步…</source>
        <translation>Catching up…</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="263"/>
        <location filename="../ui/wall.py" line="380"/>
        <source>超期</source>
        <translation>Overdue</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="318"/>
        <source>达标</source>
        <translation>Met</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="319"/>
        <source>预警</source>
        <translation>Near</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="320"/>
        <source>未达标</source>
        <translation>Missed</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="336"/>
        <source>每小时接报量</source>
        <translation>Per hour</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="342"/>
        <source>今日</source>
        <translation>Today</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="343"/>
        <source>昨日</source>
        <translation>Yesterday</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="349"/>
        <source>街道综合得分 · 本月</source>
        <translation>Street scores · month</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="355"/>
        <source>≥90分</source>
        <translation>≥90</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="356"/>
        <source>80–90分</source>
        <translation>80–90</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="357"/>
        <source>&lt;80分</source>
        <translation>&lt;80</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="365"/>
        <source>轮巡已暂停 · T 继续</source>
        <translation>Tour paused · T resumes</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="378"/>
        <source>状态、时限</source>
        <translation>Status, due:</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="381"/>
        <source>剩余不足¼</source>
        <translation>Under ¼ left</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="382"/>
        <source>险: 超期风险≥20%</source>
        <translation>Risk ≥20%</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="626"/>
        <source>调度服务已重启，正在恢复数据</source>
        <translation>dispatch service restarted, restoring the data</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="630"/>
        <source>，正在连接 %s</source>
        <translation>; connecting to %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="641"/>
        <source>调度服务重启中，第 %s 次</source>
        <translation>dispatch service restarting, attempt %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="643"/>
        <source>调度服务意外退出</source>
        <translation>it stopped unexpectedly</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="644"/>
        <source>调度服务无响应</source>
        <translation>it stopped answering</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="645"/>
        <source>上次重启未成功</source>
        <translation>the last restart failed</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="647"/>
        <source>：%s</source>
        <translation>: %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="653"/>
        <source>调度服务拒绝了本终端，请联系管理员</source>
        <translation>The dispatch service refused this terminal. Contact the administrator</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="655"/>
        <source>调度服务未响应</source>
        <translation>The dispatch service is not responding</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="657"/>
        <source>连接超时</source>
        <translation>Connection timed out</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="659"/>
        <source>连接被关闭</source>
        <translation>Connection closed</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="660"/>
        <source>网络异常</source>
        <translation>Network error</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="721"/>
        <source>节点%s</source>
        <translation>Node %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="735"/>
        <source>%s智慧联动中心 · 一网统管</source>
        <translation>%s Smart Linkage Centre</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="745"/>
        <source>全区</source>
        <translation>District</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="745"/>
        <source>全市</source>
        <translation>Whole city</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="790"/>
        <source>新特急事件</source>
        <translation>new critical case</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="790"/>
        <source>操作中</source>
        <translation>operator active</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="792"/>
        <source>（轮巡暂停：%s）</source>
        <translation> (tour paused: %s)</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="794"/>
        <source>（轮巡）</source>
        <translation> (on tour)</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="905"/>
        <source>未派遣</source>
        <translation>Not sent</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="907"/>
        <source>已超期</source>
        <translation>Late</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="910"/>
        <source>1–2件</source>
        <translation>1–2</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="911"/>
        <source>3–5件</source>
        <translation>3–5</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="912"/>
        <source>≥6件</source>
        <translation>≥6</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="913"/>
        <source>有超期</source>
        <translation>1+ late</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="914"/>
        <source>超期≥3件</source>
        <translation>3+ late</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="919"/>
        <source>网格</source>
        <translation>Grids</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="943"/>
        <source>再按一次 Ctrl+Q 退出大屏（Ctrl+Shift+K 退出全屏）</source>
        <translation>Press Ctrl+Q again to quit the wall (Ctrl+Shift+K leaves full screen)</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="116"/>
        <source>正在载入今日数据…</source>
        <translation>Loading today&apos;s figures…</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="120"/>
        <source>此刻指标未能取得</source>
        <translation>No figures for this moment</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="124"/>
        <source>今日指标 · %s</source>
        <translation>Today&apos;s KPIs · %s</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="233"/>
        <location filename="../ui/panels.py" line="246"/>
        <source>环节超期</source>
        <translation>stage late</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="835"/>
        <source>网格员 %s  %s</source>
        <translation>Grid worker %s  %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="837"/>
        <source>网格长 %s</source>
        <translation>Grid leader %s</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="901"/>
        <source>特急</source>
        <translation>Critical</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="902"/>
        <source>紧急</source>
        <translation>Urgent</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="903"/>
        <source>一般</source>
        <translation>Normal</translation>
    </message>
    <message>
        <location filename="../ui/wall.py" line="904"/>
        <source>较低</source>
        <translation>Low</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="533"/>
        <source>按期结案率</source>
        <translation>On-time rate</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="535"/>
        <source>平均处置时长</source>
        <translation>Avg. handling</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="539"/>
        <source>%s 分钟</source>
        <translation>%s min</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="540"/>
        <source>%s 小时</source>
        <translation>%s h</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="530"/>
        <source>今日接报</source>
        <translation>Received</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="84"/>
        <source>复盘时不显示本月排名</source>
        <translation>No month&apos;s ranking in replay</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="118"/>
        <source>正在计算此刻指标…</source>
        <translation>Loading this moment&apos;s figures…</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="122"/>
        <source>复盘当日指标 · %s</source>
        <translation>Replay · %s</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="109"/>
        <source>暂无主节点，案件办理暂停</source>
        <translation>No writer: cases on hold</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="136"/>
        <source>%s分</source>
        <translation>%s</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="140"/>
        <source> · 超期%s</source>
        <translation> · %s late</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="221"/>
        <source>其他区县干指挥长</source>
        <translation>Other districts&apos; duty commanders</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="256"/>
        <source>剩%1</source>
        <translation>%1 left</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="523"/>
        <source>%s年无官方日历，期限为估算</source>
        <translation>%s calendar estimated</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="524"/>
        <source>%s年缺日历，期限按周末推算</source>
        <translation>No %s calendar: weekends only</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="531"/>
        <source>今日派遣</source>
        <translation>Dispatched</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="532"/>
        <source>今日结案</source>
        <translation>Closed</translation>
    </message>
    <message>
        <location filename="../ui/panels.py" line="534"/>
        <source>当前超期</source>
        <translation>Overdue now</translation>
    </message>
</context>
</TS>
