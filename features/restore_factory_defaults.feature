@restore_factory
Feature: Restore factory defaults
  If you properly configured the RAID, you can restore the device to factory settings (Recovery Tasks,
  task 3). The reimaging software resides on an internal USB flash drive: the technician boots it once
  with the F11 boot override, or moves it first in the boot sequence and changes the sequence back
  afterwards. Each scenario checks the restored system on its disks, not only on the screen.

  @seed.tasks.3 @seed.restore.step1 @seed.restore.step2 @seed.restore.step3 @seed.restore.step4
  @seed.restore.step5 @seed.restore.step6 @seed.restore.step7 @seed.restore.step8 @seed.msg.factory_done
  @seed.ui.welcome @seed.ui.intro @seed.ui.erase_warning @seed.ui.tab @seed.ui.select_image
  @seed.ui.factory_image @seed.ui.restore_hint @seed.ui.restore_button @seed.ui.capture_hint
  @seed.ui.capture_button @seed.ui.shutdown @seed.restore.intro
  Scenario Outline: Restore the factory image of a <device type> <model> with a one-time boot override
    Given the <device type> <model> packaged server
    And the administrator has written "site=Indianapolis" to "/config/site.conf"
    And the administrator has removed "/license/license.lic"
    When I reboot the machine
    Then the HP ProLiant Power-On Self-Test (POST) runs
    When I press F11 to enter the Boot Menu
    And I select 3) One Time Boot to USB DriveKey
    Then the Welcome to the Interaction Recovery Environment screen appears
    And the screen is the Welcome screen
    When I ensure that the Standard Factory Image is selected and click Restore Image
    Then the system requests confirmation of the recovery operation
    When I click Confirm to proceed
    Then "Factory reversion complete. Click 'Restart' to restart the machine." appears in white
    And the Restart button is in the lower right corner of the page
    When I click Restart
    And I select Yes to confirm that I want to restart
    Then the HP ProLiant Power-On Self-Test (POST) runs
    And the server boots from the hard drive into the factory image of the <device type>
    And the file "/license/license.lic" is back on the installed system
    And the file "/config/site.conf" is no longer on the installed system
    And the Standard Boot Order in NVRAM is still "Hard Drive C:, CD-ROM, Floppy Drive (A:), PCI Embedded NIC, USB DriveKey (C:)"

    @libvirt
    Examples: Customer Interaction Center
      | device type                 | model  |
      | Customer Interaction Center | 360 G7 |

    Examples: Interaction Application Server
      | device type                    | model          |
      | Interaction Application Server | 120 G7         |
      | Interaction Application Server | 360 G7 2-Drive |
      | Interaction Application Server | 360 G7 4-Drive |
      | Interaction Application Server | 380 G7         |

    Examples: Interaction Media Server
      | device type              | model           |
      | Interaction Media Server | Small (120 G7)  |
      | Interaction Media Server | Medium (360 G7) |
      | Interaction Media Server | Large (360 G7)  |

    Examples: SQL Server
      | device type | model  |
      | SQL Server  | 380 G7 |

  @seed.tasks.3 @seed.tasks.3_boot_sequence @seed.restore.intro @seed.figure.4 @seed.figure.5 @seed.figure.5_order
  @seed.msg.boot_sequence @seed.restore.step3 @seed.restore.step6 @seed.restore.step8
  Scenario: Boot from the USB DriveKey by moving it to IPL:1, then set the boot sequence back to the RAID HDD
    Given a Customer Interaction Center 360 G7 packaged server
    And the administrator has written "site=Indianapolis" to "/config/site.conf"
    When I reboot the machine
    And I press F9 to run the ROM-Based Setup Utility
    Then the screen is Figure 4
    When I select Standard Boot Order (IPL) and press Enter
    Then the screen is Figure 5
    And the Standard Boot Order is "Hard Drive C: (See Boot Controller Order), CD-ROM, Floppy Drive (A:), PCI Embedded HP NC382i PCIe DP Multifunction 1Gb Adapter Port 1, USB DriveKey (C:)"
    When I move "USB DriveKey (C:)" to the IPL:1 position
    Then the Standard Boot Order is "USB DriveKey (C:), Hard Drive C: (See Boot Controller Order), CD-ROM, Floppy Drive (A:), PCI Embedded HP NC382i PCIe DP Multifunction 1Gb Adapter Port 1"
    When I press ESC to close the menu and F10 to save and exit
    Then the server restarts and boots from the USB DriveKey
    And the Standard Boot Order in NVRAM is "USB DriveKey (C:), Hard Drive C:, CD-ROM, Floppy Drive (A:), PCI Embedded NIC"
    And the Welcome to the Interaction Recovery Environment screen appears
    When I ensure that the Standard Factory Image is selected and click Restore Image
    And I click Confirm to proceed
    Then "Factory reversion complete. Click 'Restart' to restart the machine." appears in white
    When I click Restart
    And I select Yes to confirm that I want to restart
    And POST resumes and I press F9 to run the ROM-Based Setup Utility
    And I select Standard Boot Order (IPL) and press Enter
    And I move "Hard Drive C: (See Boot Controller Order)" to the IPL:1 position
    And I press ESC to close the menu and F10 to save and exit
    Then the server boots from the hard drive into the factory image of the Customer Interaction Center
    And the file "/config/site.conf" is no longer on the installed system
    And the Standard Boot Order in NVRAM is "Hard Drive C:, USB DriveKey (C:), CD-ROM, Floppy Drive (A:), PCI Embedded NIC"

  @doc_discrepancy @seed.f11.menu @seed.f11.help
  Scenario: The F11 Boot Menu lists options 1 to 5, 9 and A
    Reason: the seed's photographs of the menu are OCR'd as "One Tine Boot", "9) One Time Boot to
    Network" and "B) Exit Boot Override Menu"; the menu has "One Time Boot", "5) One Time Boot to
    Network (1st NIC in IPL)" and "A) Exit Boot Override Menu and Continue Default Boot Process".

    Given a Customer Interaction Center 360 G7 packaged server
    When I boot the device
    And I press F11 to enter the Boot Menu
    Then the screen is the F11 menu
    And the Boot Menu lists exactly "1) One Time Boot to CD-ROM, 2) One Time Boot to Floppy, 3) One Time Boot to USB DriveKey, 4) One Time Boot to HDD, 5) One Time Boot to Network (1st NIC in IPL), 9) Enter the ROM Based Setup Utility (RBSU), A) Exit Boot Override Menu and Continue Default Boot Process"
    And "This will not modify your normal boot" appears
    When I select 4) One Time Boot to HDD
    Then the server boots from the hard drive into the factory image of the Customer Interaction Center

  @doc_discrepancy @seed.ui.shutdown @seed.capture.step4
  Scenario: The Recovery Environment is driven with keys; its buttons are named on screen
    Reason: the seed says "click" (Restore Image, Confirm, Restart, Yes, Shutdown); the Recovery
    Environment runs on the server's text console, which has no mouse. The keys are shown on screen:
    R Restore Image, C Capture System Image, S Shutdown, Up/Down the image; Enter is Confirm, Yes and
    Restart; Esc is Cancel and No.

    Given a Customer Interaction Center 360 G7 packaged server
    When I boot the device
    And I press F11 to enter the Boot Menu
    And I select 3) One Time Boot to USB DriveKey
    Then the Welcome to the Interaction Recovery Environment screen appears
    And the screen shows "Up/Down: image   R: Restore Image   C: Capture System Image   S: Shutdown"
    When I click Capture System Image
    Then the screen shows "[ Confirm ]   [ Cancel ]" and "Enter: Confirm   Esc: Cancel"
    When I click Cancel
    And I click Shutdown and confirm
    Then the server powers off
    And the DriveKey holds no User Configured Image
